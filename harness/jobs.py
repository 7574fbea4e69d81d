"""Running a stage as a job: pinned numerics, the job's thread budget and its log file."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import numerics
from harness.config import ExperimentConfig, load_config
from harness.progress import to_console


@contextlib.contextmanager
def job(threads: int, log_path: str | Path | None) -> Iterator[None]:
    """Configure torch for the job (harness.numerics.configure: `threads`, one under pinned
    numerics whatever is asked; denormals flushed), check that the pinned kernels are in effect,
    and send stdout/stderr (progress bars included) to the log; a line per tenth of a long loop
    still goes to the terminal (harness.progress)."""
    numerics.configure(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if log_path is None:
        yield
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with (open(log_path, "w", buffering=1) as log, to_console(sys.stderr, str(log_path)),
          contextlib.redirect_stdout(log), contextlib.redirect_stderr(log)):
        yield


def snakemake_job(smk: Any) -> contextlib.AbstractContextManager[None]:
    return job(smk.threads, smk.log[0] if smk.log else None)


def experiment(smk: Any) -> ExperimentConfig:
    """The config of a Snakemake job's experiment (its {exp} wildcard), as the workflow resolved it."""
    return load_config(smk.config["experiments"][smk.wildcards.exp])
