"""What the benchmark scripts share (not a benchmark itself: tests/test_benchmark_scripts.py runs
every other file here): the command line (`--threads`, `--smoke`), the numerics of the
pipeline's jobs, the tiny setting's config, training records and policy, a timer and the
matrix-product peak of one thread.

Paths are anchored at the repository, so a script runs from any working directory and writes only
to temporary directories.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import jobs, numerics
from harness.config import ExperimentConfig, load_config

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "configs" / "tiny.yaml"
PRETRAINED = REPO / "results" / "tiny" / "tiny-llama" / "base" / "model"
SMOKE_TRAIN = {"prompts_per_step": 2, "group_size": 2, "max_new_tokens": 8, "micro_batch_size": 4}


def parse_args(parser: argparse.ArgumentParser, smoke: dict[str, Any], threads: int = 1) -> argparse.Namespace:
    """The script's options plus `--threads` and `--smoke` (which sets the options in `smoke` to
    tiny sizes, so the whole script runs in seconds); then this process is configured as a
    pipeline job with that many threads (`harness.jobs.configure`: numerics and allocator)."""
    parser.add_argument("--threads", type=int, default=threads,
                        help="torch threads asked for, as a pipeline job asks (pinned numerics use 1)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, seconds (" + ", ".join(f"{k}={v}" for k, v in smoke.items()) + ")")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(smoke)
    jobs.configure(args.threads)
    return args


def child_environment() -> dict[str, str]:
    """The environment of a child process that must import this checkout's harness (with the
    pinned variables this process set, as a pipeline job inherits them)."""
    return os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def experiment(smoke: bool) -> ExperimentConfig:
    """configs/tiny.yaml, the setting the benchmarks time; in smoke mode with SMOKE_TRAIN's batch."""
    cfg = load_config(TINY)
    return cfg.model_copy(update={"train": cfg.train.model_copy(update=SMOKE_TRAIN)}) if smoke else cfg


def train_records(cfg: ExperimentConfig, size: int) -> list[dict]:
    """`size` records of the experiment's training set, made by the pipeline's dataset stage."""
    from harness.stages import dataset_records  # here, as the imports of policy_dir: scripts without a model skip them

    arith = cfg.data.arith.model_copy(update={"test_per_level": 10, "train_size": size})
    return dataset_records(cfg.model_copy(update={"data": cfg.data.model_copy(update={"arith": arith})}), cfg.train_set)


def policy_dir(cfg: ExperimentConfig) -> Path:
    """The default pipeline's pre-trained tiny model if it exists, else `random_policy`."""
    return PRETRAINED if PRETRAINED.exists() else random_policy(cfg)


def random_policy(cfg: ExperimentConfig) -> Path:
    """A random-init model of the experiment's tiny shape and its tokenizer, in a temporary directory."""
    from harness.data.tokenizer import save_tokenizer
    from harness.modeling import build_tiny_llama

    out = Path(tempfile.mkdtemp()) / "model"
    tok = save_tokenizer((f"{r['problem']} {r['solution']}" for r in train_records(cfg, 2000)), out)
    a = cfg.models["tiny-llama"].tiny
    model = build_tiny_llama(tok, a.hidden_size, a.num_layers, a.num_heads, a.num_kv_heads, a.intermediate_size, a.max_positions, 0)
    model.save_pretrained(out)
    return out


def start_math_verify() -> None:
    """Start math-verify's worker pool (harness.rewards) before anything is timed: a process
    starts it at its first answer that is not an integer literal, a one-time cost of seconds that
    would otherwise land in whichever timed step first scores one."""
    from harness.rewards import verify_answers

    if verify_answers([("1/2", "0.5")]) != [True]:
        raise RuntimeError("math-verify did not find 1/2 = 0.5: its worker pool is not working")


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of `repeats` calls of `fn`, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


PEAK_SNIPPET = """
import sys, time
import harness, torch
from harness import numerics
numerics.configure(1)
n, repeats, library = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
a, b = torch.randn(n, n), torch.randn(n, n)
product = torch.mm if library == "torch" else lambda x, y: x.numpy() @ y.numpy()
product(a, b)
times = []
for _ in range(repeats):
    start = time.perf_counter()
    product(a, b)
    times.append(time.perf_counter() - start)
print(2 * n**3 / min(times) / 1e9)
"""


def matmul_peak(mode: str, library: str, n: int, repeats: int) -> float:
    """GFLOP/s of one thread on an (n, n) float32 product, best of `repeats`, in a fresh process
    under `mode` numerics, through torch.mm or numpy's matmul."""
    env = ({k: v for k, v in os.environ.items() if k not in numerics.PINNED_ENVIRONMENT}
           | {numerics.MODE_VARIABLE: mode, "OPENBLAS_NUM_THREADS": "1"})  # one thread, whichever kernel
    out = subprocess.run([sys.executable, "-c", PEAK_SNIPPET, str(n), str(repeats), library], env=env, check=True,
                         capture_output=True, text=True)
    return float(out.stdout.split()[-1])
