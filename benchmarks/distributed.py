"""Training throughput on one process against two (DDP and FSDP2 over gloo) on this CPU (run:
`make bench` or `python benchmarks/distributed.py`). Response tokens of the whole batch per
second of step time (rollout, scoring, update and temperature update), steps after the first.

The machine's cores are shared out: one process with all of them as torch threads, or two
processes with half each, so the figures compare ways of spending the same hardware. On a
2-core CPU the gain is bounded by what a second process can overlap (scoring, Python overhead);
on GPUs each process has its own device.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from _common import experiment, parse_args, policy_dir, train_records

from harness import distributed, numerics
from harness.train import train

PARTS = ("rollout", "score", "update", "temperature_update")


def run(base: Path, records: list[dict], cfg, out: Path) -> tuple[float, float, list[float]]:
    """(response tokens per second, seconds per step, seconds per step of each of PARTS) over
    steps 1.. of a fresh run."""
    distributed.launch(train, (base, records, {"controller": "fixed", "temperature": 1.0}, cfg, 0, out / "run",
                               out / "final", {"benchmark": True}), cfg.processes)
    rows = [json.loads(line) for line in (out / "run" / "metrics.jsonl").read_text().splitlines()][1:]
    rows_per_step = cfg.prompts_per_step * cfg.group_size
    tokens = sum(r["response_length"] * rows_per_step for r in rows)
    seconds = sum(r["time/step"] for r in rows)
    return tokens / seconds, seconds / len(rows), [sum(r[f"time/{p}"] for r in rows) / len(rows) for p in PARTS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--parallel", nargs="+", choices=["ddp", "fsdp"], default=["ddp", "fsdp"], help="ways of running 2 processes")
    args = parse_args(parser, {"steps": 2, "parallel": ["fsdp"]})
    exp = experiment(args.smoke)
    base = policy_dir(exp)
    records = train_records(exp, 2000)
    cores = os.cpu_count() or 1
    print(f"\n### Training throughput, tiny setting ({exp.train.prompts_per_step} prompts x {exp.train.group_size} rollouts, "
          f"{args.steps} steps; {cores} cores, {numerics.mode()} numerics)\n")
    print("| processes | parallel | threads each | response tokens/s | s/step | " + " | ".join(f"s {p}" for p in PARTS) + " |")
    print("|---" * (5 + len(PARTS)) + "|")
    for processes, parallel in [(1, "ddp")] + [(2, p) for p in args.parallel]:
        threads = numerics.job_threads(max(cores // processes, 1))
        numerics.configure(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)  # read by the launched processes' torch
        cfg = exp.train.model_copy(update={"steps": args.steps, "processes": processes, "parallel": parallel})
        with tempfile.TemporaryDirectory() as tmp:
            rate, per_step, parts = run(base, records, cfg, Path(tmp))
        label = parallel if processes > 1 else "-"
        print(f"| {processes} | {label} | {threads} | {rate:,.0f} | {per_step:.2f} | " + " | ".join(f"{t:.2f}" for t in parts) + " |")


if __name__ == "__main__":
    main()
