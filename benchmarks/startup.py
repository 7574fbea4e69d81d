"""What a pipeline job pays before its work starts and as it ends (run: `python benchmarks/startup.py [--smoke]`).

Every job of the grid is a fresh Python process that runs a Snakemake script: it imports
snakemake's script support and the job's log, then torch and harness.stages (torch comes with the
config), then what its stage uses (a model job: transformers' model classes, the sampler, the
evaluation or the trainer).
Each line below is a fresh process that imports one more layer, so the differences are what each
layer adds. The second line is the whole import of an evaluation job that adopts its training
job's evaluation (harness.handoff), the third that of a dataset, tokenizer or table job, the last
that of a job that runs a model (base model, training, the base model's evaluations). The first
column is a job's process: what the script imports at its top, then the stage's own imports
inside `harness.jobs.job_process` (garbage collection frozen as the job starts and ends); the
second, the same imports and a plain exit, whose final collections walk every object torch and
transformers made. The cost over the default grid multiplies the second and the last line of the
first column by their jobs in reference/default/*/jobs.csv.
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
STAGES = f"{ADOPTING}; import torch, harness.stages"
LAYERS = {  # (what a job script imports at its top, what its stage imports inside the job), cumulative
    "Python itself": ("pass", ""),
    "+ snakemake's script support and the job's log (an evaluation job that adopts its training job's evaluation)": (
        ADOPTING, ""),
    "+ torch and harness stages (a dataset, tokenizer or table job's whole import)": (STAGES, ""),
    "+ transformers' model classes, the sampler, the evaluation (a model job's whole import)": (
        STAGES, "from transformers import LlamaForCausalLM; import harness.evaluate, harness.modeling, harness.sampling"),
}


def statement(top: str, inside: str, as_job: bool) -> str:
    """The program of one line: `inside` within a job's process (harness.jobs.job_process) or
    after the top imports with nothing around it."""
    if not as_job or top == "pass":  # Python itself: no harness to freeze with
        return "; ".join(part for part in (top, inside) if part)
    return f"{top}\nwith harness.jobs.job_process():\n    {inside or 'pass'}"


def import_seconds(program: str, repeats: int) -> float:
    """Median wall seconds of a fresh interpreter that runs `program` and exits, with the
    environment a job inherits (pinned variables included: they are set before its imports)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", program], env=child_environment(), check=True)
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
    print(f"\n### Job start-up and exit ({numerics.mode()} numerics, fresh process each, median of {args.repeats})\n")
    print("| imports | seconds, a job's process | added | seconds, a plain exit | added |\n|---|---|---|---|---|")
    seconds, previous = {}, (0.0, 0.0)
    for i in args.layers:
        name, (top, inside) = list(LAYERS.items())[i]
        times = tuple(import_seconds(statement(top, inside, as_job), args.repeats) for as_job in (True, False))
        seconds[i] = times[0]
        print(f"| {name} | {times[0]:.2f} | {times[0] - previous[0]:+.2f} | {times[1]:.2f} | {times[1] - previous[1]:+.2f} |")
        previous = times
    jobs, light, full = grid_jobs(), seconds.get(1), seconds[len(LAYERS) - 1]
    if jobs and light is not None:
        (model_jobs, adopting), total = jobs, jobs[0] * full + jobs[1] * light
        print(f"\nOver the default grid's {sum(jobs)} model and evaluation jobs: {model_jobs} x {full:.2f} s + {adopting} "
              f"adopting evaluations x {light:.2f} s = {total / 60:.1f} minutes of job time in start-up.")


if __name__ == "__main__":
    main()
