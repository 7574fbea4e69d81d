"""Progress of long loops (pre-training, GRPO training, generation). tqdm's bar goes to the job's
stderr, which a Snakemake job sends to its log file; while a job does so (harness.jobs.job), a
compact line at each tenth of the loop also goes to the terminal Snakemake prints to, naming the
log and the time left, so a long job is never silent where the user is looking."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import TextIO, TypeVar

from tqdm import tqdm

# No monitor thread (it only retunes a bar's refresh rate): a job then runs one thread, so its
# math-verify workers are plain forks of it (harness.rewards). Every tqdm bar, transformers' too.
tqdm.monitor_interval = 0

T = TypeVar("T")
EVERY = 10  # percent between two terminal lines
MIN_INTERVAL = 10.0  # seconds: a job faster than this between tenths prints no lines

_console: tuple[TextIO, str] | None = None  # the terminal and the name lines start with, while a job logs to a file


@contextlib.contextmanager
def to_console(stream: TextIO, name: str) -> Iterator[None]:
    """Within this block, loops of `progress` also print their tenths to `stream`, as `name: ...`."""
    global _console
    previous, _console = _console, (stream, name)
    try:
        yield
    finally:
        _console = previous


def progress(items: Sequence[T], desc: str, total: int | None = None, initial: int = 0, disable: bool = False,
             **kwargs) -> tqdm:
    """tqdm over `items` (counted from `initial` of `total`, for a resumed loop; total: initial +
    len(items) when not given), printing its tenths to the console set by `to_console`."""
    total = initial + len(items) if total is None else total
    lines = _tenths(items, desc, total, initial, None if disable else _console)
    return tqdm(lines, desc=desc, total=total, initial=initial, disable=disable, **kwargs)


def _tenths(items: Sequence[T], desc: str, total: int, initial: int, console: tuple[TextIO, str] | None) -> Iterator[T]:
    """Yield `items`; after each, when a new tenth of `total` is reached and MIN_INTERVAL has passed since
    the last line, print one line with the time left (from this run's rate); at the end, a
    last line when any was printed."""
    start = last = time.monotonic()
    printed = False
    next_percent = (100 * initial // max(total, 1) // EVERY + 1) * EVERY
    for done, item in enumerate(items, start=1):
        yield item
        if console is None:
            continue
        now, n = time.monotonic(), initial + done
        percent = 100 * n // max(total, 1)
        if percent >= next_percent and (now - last >= MIN_INTERVAL or n == total and printed):
            left = (now - start) / done * (total - n)
            stream, name = console
            print(f"{name}: {desc} {percent}% ({n}/{total}), {tqdm.format_interval(now - start)} elapsed, "
                  f"~{tqdm.format_interval(left)} left", file=stream, flush=True)
            printed, last = True, now
            next_percent = (percent // EVERY + 1) * EVERY
