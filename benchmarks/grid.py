"""The default grid's model FLOPs against the CPU's peak (run: `python benchmarks/grid.py
[--reference DIR]`; `make readme-bench` puts its figures in the README).

Reads the snapshot of a finished run (`reference/default` unless told otherwise: its run.json
and each experiment's jobs.csv, whose `gflop` column `python -m harness.readme --snapshot`
computes from the token counts every job logged; convention: harness/model_flops.py) and
measures, in this run, the matrix-product peak of one thread under the pinned numerics every
job runs. Prints, per experiment and kind of job, the model work, the job seconds and the rate
of a job against one thread's peak, then the whole grid: its work over the run's wall time
against the peak of all the run's cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# first: _common imports harness, which pins the numerics before torch loads
from _common import REPO, matmul_peak, parse_args

# isort: split

import pandas as pd

# a training job also evaluates its model; that model's evaluation jobs adopt it (harness.handoff)
KINDS = {"base_model": "pre-training", "train": "GRPO training and the trained model's evaluation", "eval": "evaluation jobs"}


def grid_figures(reference: Path, peak: float) -> None:
    """Print the table and the whole-grid line for the run snapshotted in `reference`, against
    `peak` GFLOP/s of one thread."""
    record = json.loads((reference / "run.json").read_text())
    print(f"\n### Model work of the run in {reference.relative_to(REPO) if reference.is_relative_to(REPO) else reference} "
          f"against one thread's matrix-product peak, {peak:.1f} GFLOP/s (pinned numerics, measured in this run)\n")
    print("| experiment | jobs | model TFLOP | job seconds | GFLOP/s per job | share of one thread's peak |")
    print("|---|---|---|---|---|---|")
    total_flop = 0.0
    for exp in record["experiments"]:
        jobs = pd.read_csv(reference / exp / "jobs.csv")
        if "gflop" not in jobs:
            raise KeyError(f"{reference / exp / 'jobs.csv'} has no gflop column: snapshot a run made since jobs log "
                           "their tokens (python -m harness.readme --snapshot)")
        for kind, label in [*KINDS.items(), (None, "all jobs")]:
            part = jobs if kind is None else jobs[jobs["kind"] == kind]
            gflop, seconds = part["gflop"].sum(), part["wall_s"].sum()
            print(f"| {exp}: {label} | {len(part)} | {gflop / 1e3:.2f} | {seconds:,.0f} | {gflop / seconds:.1f} | "
                  f"{gflop / seconds / peak:.1%} |")
        total_flop += jobs["gflop"].sum()
    cores, wall = record["cores"], record["wall_seconds"]
    rate = total_flop / wall
    print(f"\nThe whole grid: {total_flop / 1e3:.1f} TFLOP of model work in the run's {wall / 60:.1f} minutes on {cores} "
          f"cores, {rate:.1f} GFLOP/s: {rate / (cores * peak):.1%} of the {cores} cores' peak ({cores} x {peak:.1f} GFLOP/s).")
    print("Model FLOPs: 2 per weight and token forward, 6 per token trained (forward + backward); attention, padding "
          "and repeated prefills are not counted (harness/model_flops.py).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", type=Path, default=REPO / "reference" / "default",
                        help="a run's snapshot (python -m harness.readme --snapshot --as NAME: reference/NAME)")
    parser.add_argument("--peak-n", type=int, default=1024, help="size of the square product that measures the peak")
    parser.add_argument("--repeats", type=int, default=5)
    args = parse_args(parser, {"peak_n": 128, "repeats": 1})
    grid_figures(args.reference.resolve(), matmul_peak("pinned", "torch", args.peak_n, args.repeats))


if __name__ == "__main__":
    main()
