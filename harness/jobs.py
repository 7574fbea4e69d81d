"""Running a stage as a job: pinned numerics, the job's thread budget and its log file. Torch
and the config are loaded by what needs them: a job that only copies (an evaluation adopted from
its training job, harness.handoff) starts without either."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import numerics
from harness.progress import to_console

if TYPE_CHECKING:
    from harness.config import ExperimentConfig


@contextlib.contextmanager
def job(threads: int, log_path: str | Path | None) -> Iterator[None]:
    """`configure` the job, then send its output to the log (`logged`)."""
    configure(threads)
    with logged(log_path):
        yield


def configure(threads: int) -> None:
    """Configure torch for the job (harness.numerics.configure: `threads`, one under pinned
    numerics whatever is asked; denormals flushed) and check that the pinned kernels are in effect."""
    numerics.configure(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@contextlib.contextmanager
def logged(log_path: str | Path | None) -> Iterator[None]:
    """Send stdout/stderr (progress bars included) to the log; a line per tenth of a long loop
    still goes to the terminal (harness.progress)."""
    if log_path is None:
        yield
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with (open(log_path, "w", buffering=1) as log, to_console(sys.stderr, str(log_path)),
          contextlib.redirect_stdout(log), contextlib.redirect_stderr(log)):
        yield


@contextlib.contextmanager
def job_process() -> Iterator[None]:
    """The garbage collection of a process that ends with its job: what exists as the job starts
    (torch and what the script imported) and, as it ends, what the job made are frozen out of
    every later collection (`gc.freeze`). The job's collections then skip torch's objects, and the
    interpreter's exit does not walk the million objects of torch and transformers once more
    (about 1 s of every model job's process; benchmarks/startup.py). Nothing is computed after
    the freeze at the end: the job's files are written and closed by then."""
    gc.freeze()
    try:
        yield
    finally:
        gc.freeze()


@contextlib.contextmanager
def snakemake_job(smk: Any) -> Iterator[None]:
    """A Snakemake job's process: `job` (numerics, threads, log) within `job_process`."""
    with job_process(), job(smk.threads, smk.log[0] if smk.log else None):
        yield


@contextlib.contextmanager
def snakemake_log(smk: Any) -> Iterator[None]:
    """A Snakemake job's process and log, before (or without) `configure`."""
    with job_process(), logged(smk.log[0] if smk.log else None):
        yield


def experiment(smk: Any) -> ExperimentConfig:
    """The config of a Snakemake job's experiment (its {exp} wildcard), as the workflow resolved it."""
    from harness.config import load_config

    return load_config(smk.config["experiments"][smk.wildcards.exp])
