"""What a pipeline job pays before its work starts (run: `python benchmarks/startup.py [--smoke]`).

Every job of the grid is a fresh Python process that runs a Snakemake script: it imports
snakemake's script support and the job's log, then torch and harness.stages (torch comes with the
config), then what its stage uses (a model job: transformers' model classes, the sampler, the
evaluation or the trainer).
Each line below is a fresh process that imports one more layer, so the differences are what each
layer adds. The second line is the whole import of an evaluation job that adopts its training
job's evaluation (harness.handoff), the third that of a dataset, tokenizer or table job, the last
that of a job that runs a model (base model, training, the base model's evaluations). The cost
over the default grid multiplies the second and the last by their jobs in
reference/default/*/jobs.csv.
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

ADOPTING = "import snakemake.script; import harness.jobs, harness.handoff"
LAYERS = {  # cumulative imports, as a job script takes them
    "Python itself": "pass",
    "+ snakemake's script support and the job's log (an evaluation job that adopts its training job's evaluation)": ADOPTING,
    "+ torch and harness stages (a dataset, tokenizer or table job's whole import)": (
        f"{ADOPTING}; import torch, harness.stages"
    ),
    "+ transformers' model classes, the sampler, the evaluation (a model job's whole import)": (
        f"{ADOPTING}; import torch, harness.stages; "
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


def grid_jobs() -> tuple[int, int] | None:
    """Job processes of the committed default run, if present: those that run a model (base
    models, training, the base model's evaluations) and the evaluations of trained models, which
    adopt what their training job evaluated (harness.handoff)."""
    rows = [r for f in sorted((REPO / "reference" / "default").glob("*/jobs.csv")) for r in csv.DictReader(f.open())]
    adopting = sum(r["kind"] == "eval" and r["method"] != "base" for r in rows)
    return (len(rows) - adopting, adopting) if rows else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--layers", nargs="+", choices=range(len(LAYERS)), type=int, default=list(range(len(LAYERS))),
                        help=f"which rows to time (0 = Python itself ... {len(LAYERS) - 1} = a model job's whole import)")
    args = parse_args(parser, {"repeats": 1, "layers": [0, 1, len(LAYERS) - 1]})
    print(f"\n### Job start-up ({numerics.mode()} numerics, fresh process each, median of {args.repeats})\n")
    print("| imports | seconds | added |\n|---|---|---|")
    seconds, previous = {}, 0.0
    for i in args.layers:
        name, statement = list(LAYERS.items())[i]
        seconds[i] = import_seconds(statement, args.repeats)
        print(f"| {name} | {seconds[i]:.2f} | {seconds[i] - previous:+.2f} |")
        previous = seconds[i]
    jobs, light, full = grid_jobs(), seconds.get(1), seconds[len(LAYERS) - 1]
    if jobs and light is not None:
        (model_jobs, adopting), total = jobs, jobs[0] * full + jobs[1] * light
        print(f"\nOver the default grid's {sum(jobs)} model and evaluation jobs: {model_jobs} x {full:.2f} s + {adopting} "
              f"adopting evaluations x {light:.2f} s = {total / 60:.1f} minutes of job time in start-up.")


if __name__ == "__main__":
    main()
