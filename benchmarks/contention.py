"""How a pipeline job slows down when other CPU-bound processes share the machine (run:
`python benchmarks/contention.py [--smoke]`).

The job: a fresh process that runs GRPO steps of the tiny setting with the numerics of a
pipeline job (one torch thread, idle threads passive). It runs alone, then beside 1 and beside
as many busy-looping processes as the machine has cores (`--hogs`). On c cores with h hogs, a one-thread
job's fair share is min(1, c / (h + 1)) of a core, so the expected slow-down is its inverse;
a job whose threads spin on contended cores (what pinned numerics prevent) grows far more.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

# first: _common imports harness, which pins the numerics before torch loads
from _common import REPO, child_environment, experiment, parse_args

HOG = "while True: pass"


def job_seconds(steps: int, smoke: bool) -> float:
    """Wall seconds of a fresh job process that runs `steps` GRPO steps (start-up included)."""
    command = [sys.executable, __file__, "--worker", "--steps", str(steps), *(["--smoke"] if smoke else [])]
    start = time.perf_counter()
    subprocess.run(command, env=child_environment(), check=True, capture_output=True, cwd=REPO / "benchmarks")
    return time.perf_counter() - start


def beside(hogs: int, steps: int, smoke: bool) -> float:
    """`job_seconds` with `hogs` busy-looping processes running for the whole job."""
    procs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(hogs)]
    try:
        return job_seconds(steps, smoke)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def worker(steps: int, smoke: bool) -> None:
    from _common import policy_dir, train_records

    from harness.train import build_run, grpo_step

    cfg = experiment(smoke)
    run = build_run(policy_dir(cfg), train_records(cfg, 2000), {"controller": "fixed", "temperature": 1.0}, cfg.train, seed=0)
    for step in range(steps):
        grpo_step(run, step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--hogs", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}),
                        help="how many busy processes beside the job, one run each (default: 1 and one per core)")
    parser.add_argument("--worker", action="store_true", help="be the timed job (internal)")
    args = parse_args(parser, {"steps": 1, "hogs": [1]})
    if args.worker:
        worker(args.steps, args.smoke)
        return
    cores = os.cpu_count() or 1
    alone = job_seconds(args.steps, args.smoke)
    print(f"\n### One job ({args.steps} GRPO steps of the tiny setting, 1 thread, process start included) beside busy processes, {cores} cores\n")
    print("| beside | seconds | slow-down | fair-share slow-down |\n|---|---|---|---|")
    print(f"| nothing | {alone:.1f} | 1.00x | 1.00x |")
    for hogs in args.hogs:
        seconds = beside(hogs, args.steps, args.smoke)
        fair = max(1.0, (hogs + 1) / cores)
        print(f"| {hogs} busy process{'es' if hogs > 1 else ''} | {seconds:.1f} | {seconds / alone:.2f}x | {fair:.2f}x |")


if __name__ == "__main__":
    main()
