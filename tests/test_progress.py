"""Progress lines: a job that logs to a file still prints a line per tenth of a long loop, with
the time left, to the terminal Snakemake shows; the detailed bar stays in the log."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from harness import progress as progress_module
from harness.jobs import job
from harness.progress import progress, to_console


def test_a_line_per_tenth_with_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "MIN_INTERVAL", 0.0)
    console = io.StringIO()
    with to_console(console, "logs/x/train.log"):
        assert list(progress(range(20), "steps", file=io.StringIO())) == list(range(20))
    lines = console.getvalue().splitlines()
    assert [line.split()[2] for line in lines] == [f"{p}%" for p in range(10, 101, 10)]
    assert lines[0].startswith("logs/x/train.log: steps 10% (2/20), 00:00 elapsed, ~00:00 left")


def test_a_resumed_loop_counts_from_where_it_resumed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "MIN_INTERVAL", 0.0)
    console = io.StringIO()
    with to_console(console, "job"):
        list(progress(range(15, 20), "steps", total=20, initial=15, file=io.StringIO()))
    assert [line.split()[2] for line in console.getvalue().splitlines()] == ["80%", "90%", "100%"]


def test_fast_loops_and_loops_outside_a_job_print_no_lines() -> None:
    console = io.StringIO()
    with to_console(console, "job"):
        list(progress(range(100), "steps", file=io.StringIO()))  # well under MIN_INTERVAL per tenth
        list(progress(range(100), "steps", disable=True))
    list(progress(range(100), "steps", file=io.StringIO()))
    assert console.getvalue() == ""


def test_a_job_sends_the_bar_to_its_log_and_the_tenths_to_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "MIN_INTERVAL", 0.0)
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    log = tmp_path / "job.log"
    with job(1, log):
        list(progress(range(10), "GRPO steps"))
    assert terminal.getvalue().splitlines()[-1].startswith(f"{log}: GRPO steps 100% (10/10)")
    assert "GRPO steps: 100%" in log.read_text()  # tqdm's own bar


def test_progress_bars_leave_a_job_running_one_thread() -> None:
    """tqdm's monitor thread is off, for our bars and transformers' alike, so a job's math-verify
    workers are forks of a one-thread process (harness.rewards)."""
    import subprocess

    code = ("import harness.progress as p, harness.rewards as r; from transformers.utils.logging import tqdm as hf_tqdm; "
            "list(p.progress(range(3), 'ours')); list(hf_tqdm(range(3), desc='transformers')); "
            "print(r.native_threads(), r.worker_context().get_start_method())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.split() == ["1", "fork"]
