"""Running a stage as a job: pinned numerics, the job's thread budget and its log file. Torch
and the config are loaded by what needs them: a job that only copies (an evaluation adopted from
its training job, harness.handoff) starts without either."""

from __future__ import annotations

import contextlib
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


def snakemake_job(smk: Any) -> contextlib.AbstractContextManager[None]:
    return job(smk.threads, smk.log[0] if smk.log else None)


def snakemake_log(smk: Any) -> contextlib.AbstractContextManager[None]:
    """A Snakemake job's log, before (or without) `configure`."""
    return logged(smk.log[0] if smk.log else None)


def experiment(smk: Any) -> ExperimentConfig:
    """The config of a Snakemake job's experiment (its {exp} wildcard), as the workflow resolved it."""
    from harness.config import load_config

    return load_config(smk.config["experiments"][smk.wildcards.exp])
