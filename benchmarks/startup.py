"""What a pipeline job pays before its work starts (run: `python benchmarks/startup.py [--smoke]`).

Every training or evaluation job of the grid is a fresh Python process that runs a Snakemake
script: it imports snakemake's script support and the harness stage it runs (torch,
transformers, scipy come with them). Each line below is a fresh process that imports one more
layer, so the differences are what each layer adds; the last line times the whole import of a
training job, and the cost over the default grid multiplies it by the grid's job count
(reference/default/*/jobs.csv).
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
    "+ transformers (a model class)": "import torch; from transformers import LlamaForCausalLM",
    "+ harness stages and snakemake's script support (a job's whole import)": (
        "import snakemake.script; import harness.jobs, harness.stages"
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
                        help=f"which rows to time (0 = Python itself ... {len(LAYERS) - 1} = a job's whole import)")
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
        print(f"\nOver the default grid's {jobs} job processes: {jobs} x {previous:.2f} s = {jobs * previous / 60:.1f} minutes of job time in start-up.")


if __name__ == "__main__":
    main()
