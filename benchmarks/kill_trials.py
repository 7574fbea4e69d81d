"""Kill -9 the whole pipeline (Snakemake and its jobs) inside a random job, rerun it with the
same plain command, and compare what it finally writes with an uninterrupted run: tables, every
cell's metrics and generations, and every model's weights. A trial picks the k-th job to start
(k uniform over the run's jobs) and kills the run a random 0-3 s after that job opened its log.

  .venv/bin/python benchmarks/kill_trials.py [--config configs/smoke.yaml] [--trials 3] [--seed 0] [--smoke]

--smoke: one trial on one target, the smoke config's arithmetic test set (one job), killed at once.

Prints one row per trial: when the kill came, which jobs it interrupted, whether the plain
rerun finished, whether the results are identical, and what the kill had left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# first: _common imports harness, which pins the numerics before torch loads
from _common import REPO, parse_args

# isort: split

import torch
from safetensors.torch import load_file


def snakemake(workdir: Path, config: Path, targets: list[str], **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--configfile", str(config),
           "--directory", str(workdir), "--cores", "2", *targets]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def outputs(root: Path) -> dict[str, object]:
    """Everything a run decides: datasets, table files, cell metrics, generations, model weights
    (by relative path)."""
    out: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.suffix == ".csv" or path.name.endswith(".generations.jsonl") or (path.parent.name == "data" and path.suffix == ".jsonl"):
            out[name] = path.read_text()
        elif path.suffix == ".json" and "/eval/" in name:
            out[name] = json.loads(path.read_text())["metrics"]
        elif path.name == "model.safetensors" and "/checkpoints/" not in name:
            out[name] = {k: v.clone() for k, v in load_file(path).items()}
    return out


def same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, dict) and x and isinstance(next(iter(x.values())), torch.Tensor):
            if x.keys() != y.keys() or not all(torch.equal(x[n], y[n]) for n in x):
                return False
        elif x != y:
            return False
    return True


def running_jobs(workdir: Path) -> str:
    logs = sorted(workdir.glob("logs/**/*.log"), key=lambda p: p.stat().st_mtime)
    return logs[-1].relative_to(workdir / "logs").as_posix().removesuffix(".log") if logs else "(none yet)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "smoke.yaml")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", nargs="*", default=[], help="Snakemake targets (default: the config's whole run)")
    parser.add_argument("--max-delay", type=float, default=3.0, help="seconds at most between the job's start and the kill")
    args = parse_args(parser, {"trials": 1, "target": ["results/smoke/data/arith.jsonl"], "max_delay": 0.0})
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(tmp) / "reference"
        start = time.perf_counter()
        ref = snakemake(reference, args.config, args.target)
        ref.communicate()
        full = time.perf_counter() - start
        assert ref.returncode == 0, "the uninterrupted run failed"
        expected = outputs(reference / "results")
        print(f"uninterrupted run: {full:.0f} s, {len(expected)} outputs compared")
        print("| trial | killed at | last job started | left behind | plain rerun | identical |\n|---|---|---|---|---|---|")
        jobs = len(list((reference / "logs").rglob("*.log")))
        for trial in range(args.trials):
            work = Path(tmp) / f"trial{trial}"
            k, delay = rng.randint(1, jobs), rng.uniform(0, args.max_delay)
            start = time.perf_counter()
            run = snakemake(work, args.config, args.target, start_new_session=True)
            while len(list((work / "logs").rglob("*.log"))) < k and run.poll() is None:
                time.sleep(0.05)
            time.sleep(delay)
            at = time.perf_counter() - start
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
            job = running_jobs(work)
            left = []
            if list((work / ".snakemake" / "locks").glob("*.lock")):
                left.append("lock")
            if [p for p in (work / ".snakemake" / "incomplete").glob("*") if p.name != "migration_underway"]:
                left.append("outputs marked incomplete")
            temporaries = [p for p in (work / "results").rglob(".*") if p.is_dir()]
            if temporaries:
                left.append(f"{len(temporaries)} temporaries")
            rerun = snakemake(work, args.config, args.target)
            log, _ = rerun.communicate()
            if rerun.returncode:
                print(log[-3000:])
            stale = [p for p in (work / "results").rglob(".*") if p.is_dir()]
            identical = rerun.returncode == 0 and same(outputs(work / "results"), expected) and not stale
            print(f"| {trial} | {at:.0f} s | {job} | {', '.join(left) or 'nothing'} | "
                  f"{'finished' if rerun.returncode == 0 else f'failed ({rerun.returncode})'} | "
                  f"{'yes' if identical else 'NO'}{f' ({len(stale)} temporaries remain)' if stale else ''} |", flush=True)


if __name__ == "__main__":
    main()
