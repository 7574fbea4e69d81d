"""Benchmarks that cannot rot: every script in benchmarks/ runs its whole code path with `--smoke`
(tiny sizes, seconds) from a temporary working directory and prints a Markdown table. Scripts
are found by glob, so a new one is tested too; `_`-prefixed files are shared helpers, not scripts."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harness import numerics

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
SCRIPTS = sorted(p for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))
HELPERS = sorted(BENCHMARKS.glob("_*.py"))
TIMEOUT_S = 180


def test_every_script_is_found():
    assert {"core.py", "methods.py", "rollout.py"} <= {p.name for p in SCRIPTS}
    for helper in HELPERS:  # a script cannot escape the smoke runs by its name
        assert '__name__ == "__main__"' not in helper.read_text(), f"{helper.name} is a script: drop the leading _"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_smoke_run_prints_a_table(script: Path, tmp_path: Path):
    paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]  # this checkout's harness
    # as from a shell: the script pins the numerics itself (this process's pinned variables are not inherited)
    env = {k: v for k, v in os.environ.items() if k not in numerics.PINNED_ENVIRONMENT} | {"PYTHONPATH": os.pathsep.join(paths)}
    result = subprocess.run([sys.executable, str(script), "--smoke"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, f"{script.name} --smoke failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert any(line.startswith("|") for line in result.stdout.splitlines()), f"no Markdown table:\n{result.stdout[-3000:]}"


@pytest.fixture
def common(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _common

    yield _common
    numerics.configure(1)  # back to the test process's setting


@pytest.mark.parametrize(("argv", "expected"), [([], 128), (["--smoke"], 4), (["--smoke", "--threads", "3"], 4)])
def test_smoke_sets_tiny_sizes_and_the_job_numerics(common, monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: int):
    monkeypatch.setattr(sys, "argv", ["bench", *argv])
    torch.set_num_threads(2)  # parse_args must set the job's count back
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=128)
    args = common.parse_args(parser, {"batch": 4}, threads=2)
    assert args.batch == expected and args.smoke == ("--smoke" in argv)
    assert torch.get_num_threads() == numerics.job_threads(args.threads)


def test_train_records_are_the_pipelines_records(common):
    cfg = common.experiment(smoke=True)
    records = common.train_records(cfg, 20)
    assert len(records) == 20 and all({"id", "prompt", "answer", "problem"} <= set(r) for r in records)
    assert cfg.train.model_dump(include=set(common.SMOKE_TRAIN)) == common.SMOKE_TRAIN
