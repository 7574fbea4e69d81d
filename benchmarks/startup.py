"""What a pipeline job pays before its work starts (run: `python benchmarks/startup.py [--smoke]`).

Every job of the grid is a fresh Python process that runs a Snakemake script: it imports
snakemake's script support and harness.stages (torch comes with the config), then what its stage
uses (a model job: transformers' model classes, the sampler, the evaluation or the trainer).
Each line below is a fresh process that imports one more layer, so the differences are what each
layer adds. The third line is the whole import of a dataset, tokenizer or table job, the last
that of an evaluation job; the cost over the default grid multiplies the last by the grid's
model jobs (base model, training, evaluation: reference/default/*/jobs.csv).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import time

# first: _common imports harness, which pins the numerics before torch loads
from _common import REPO, child_environment, parse_args

from harness import numerics

LAYERS = {  # cumulative imports, as a job script takes them
    "Python itself": "pass",
    "+ torch": "import torch",
    "+ snakemake's script support and harness stages (a dataset or table job's whole import)": (
        "import snakemake.script; import harness.jobs, harness.stages"
    ),
    "+ transformers' model classes, the sampler, the evaluation (an evaluation job's whole import)": (
        "import snakemake.script; import harness.jobs, harness.stages; "
        "from transformers import LlamaForCausalLM; import harness.evaluate, harness.modeling, harness.sampling"
    ),
}


def import_seconds(statement: str, repeats: int) -> float:
    """Median wall seconds of a fresh interpreter that runs `statement` and exits, with the
    environment a job inherits (pinned variables included: they are set before its imports)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], env=child_environment(), check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def grid_jobs() -> int | None:
    """Job processes of the committed default run (training, evaluation, base models), if present."""
    files = sorted((REPO / "reference" / "default").glob("*/jobs.csv"))
    return sum(1 for f in files for _ in csv.DictReader(f.open())) if files else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--layers", nargs="+", choices=range(len(LAYERS)), type=int, default=list(range(len(LAYERS))),
                        help=f"which rows to time (0 = Python itself ... {len(LAYERS) - 1} = an evaluation job's whole import)")
    args = parse_args(parser, {"repeats": 1, "layers": [0, len(LAYERS) - 1]})
    print(f"\n### Job start-up ({numerics.mode()} numerics, fresh process each, median of {args.repeats})\n")
    print("| imports | seconds | added |\n|---|---|---|")
    previous = 0.0
    for name, statement in [list(LAYERS.items())[i] for i in args.layers]:
        seconds = import_seconds(statement, args.repeats)
        print(f"| {name} | {seconds:.2f} | {seconds - previous:+.2f} |")
        previous = seconds
    jobs = grid_jobs()
    if jobs:
        print(f"\nOver the default grid's {jobs} model jobs: {jobs} x {previous:.2f} s = {jobs * previous / 60:.1f} minutes of job time in start-up.")


if __name__ == "__main__":
    main()
