"""What a sandbox run may use, how strongly it is isolated, and the error when it cannot be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Isolation = Literal["bubblewrap-cgroup", "bubblewrap", "none"]
ISOLATIONS: tuple[str, ...] = get_args(Isolation)
STRICTEST: Isolation = "bubblewrap-cgroup"

ISOLATION_HELP = (
    "how generated code runs: bubblewrap-cgroup (as an unprivileged user on a read-only view of the "
    "interpreter and its standard library, no network, its own PID namespace, one memory and one process "
    "limit for its whole process tree; needs bwrap and root or a delegated cgroup), bubblewrap (the same, "
    "but memory and processes limited per process only), none (a child process with rlimits: no "
    "isolation, for trusted code only)"
)


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock per run, for its whole process tree
    memory_mb: int = 1024  # RLIMIT_AS per process; with a cgroup, also the whole tree's memory (scratch included)
    max_processes: int = 16  # processes the program may create (exact with a cgroup, else per-user RLIMIT_NPROC)
    max_file_mb: int = 16  # RLIMIT_FSIZE: each file, stdout and stderr included
    scratch_mb: int = 64  # the writable scratch directory (a tmpfs of this size under bubblewrap)


class SandboxUnavailable(RuntimeError):
    """The isolation a config asks for cannot be had here: nothing is scored rather than scored unsafely."""

    def __init__(self, isolation: str, missing: str):
        super().__init__(
            f"sandbox isolation {isolation!r} is unavailable: {missing}. Generated code is not run without the "
            f"isolation asked for. To accept a weaker one, set train.sandbox and eval.sandbox in the experiment "
            f"config (allowed: {', '.join(ISOLATIONS)}): 'bubblewrap' limits memory and processes per process "
            f"only, 'none' does not isolate at all (trusted code only)."
        )
