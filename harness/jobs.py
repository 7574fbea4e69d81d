"""Running a stage as a job: pinned numerics, the job's thread budget, its memory allocator, its
garbage collection and its log file. Torch
and the config are loaded by what needs them: a job that only copies (an evaluation adopted from
its training job, harness.handoff) starts without either."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import numerics
from harness.progress import to_console

if TYPE_CHECKING:
    from harness.config import ExperimentConfig

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # bytes: blocks up to this size come from the heap (glibc's ceiling on 64-bit)
TRIM_THRESHOLD = 64 << 20  # bytes of free memory at the heap's top kept rather than handed back


@contextlib.contextmanager
def job(threads: int, log_path: str | Path | None) -> Iterator[None]:
    """`configure` the job, then send its output to the log (`logged`)."""
    configure(threads)
    with logged(log_path):
        yield


def configure(threads: int) -> None:
    """Configure torch for the job (harness.numerics.configure: `threads`, one under pinned
    numerics whatever is asked; denormals flushed), check that the pinned kernels are in effect,
    and have the allocator keep freed memory (`keep_freed_memory`)."""
    numerics.configure(threads)
    keep_freed_memory()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep the memory of freed tensors for the next ones. By default it maps
    each block of over 128 KiB on its own and hands a free heap top of over 128 KiB back to the
    kernel (thresholds it then moves as it goes), so the next step's tensors of the same shapes
    fault their pages in again, each zeroed by the kernel. Fixed thresholds keep blocks up to
    32 MiB on the heap and up to 64 MiB of free heap: a Countdown training job's page faults fell
    from 0.4-0.7 to 0.15 million and its system time from 1.1-1.8 to 0.65 s (README: Measured
    figures, after Job start-up and exit).
    Where memory comes from changes no value computed. False, with a warning, where the C library
    has no `mallopt` (not glibc): the job then runs with its allocator's defaults."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    kept = mallopt is not None and all(mallopt(param, value) == 1 for param, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD)))
    if not kept:
        warnings.warn("this C library's malloc takes no mallopt thresholds (not glibc): the job keeps its "
                      "allocator's defaults, the same numbers, more page faults", RuntimeWarning, stacklevel=2)
    return kept


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
    interpreter's exit does not walk the ~386,000 tracked objects of torch and transformers once
    more (about 1 s of every model job's process; benchmarks/startup.py). Nothing is computed after
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
