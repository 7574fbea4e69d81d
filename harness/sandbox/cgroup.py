"""A cgroup per sandbox run: one memory limit and one process limit for its whole process tree.

rlimits are per process: four children under a 1 GB RLIMIT_AS hold 4 GB, and RLIMIT_NPROC
counts every process of a user. A cgroup counts the tree: memory.limit_in_bytes / memory.max
(the scratch tmpfs included; swap too where the kernel accounts it) and pids.max. Memory beyond
the limit gets the tree's largest process killed by the kernel's OOM killer, a fork beyond the
process limit fails with EAGAIN.

cgroup v1 (a hierarchy per controller): runs are created below the harness's own cgroup, so
every limit of the harness's cgroup still applies. cgroup v2: runs are created below
/harness-sandbox at the root of the hierarchy the harness sees, whose controllers it enables;
this needs the real root cgroup (or an empty one), as on a host where the harness runs as root.
Either needs write access to the hierarchy: root, or a cgroup delegated to the user.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from harness.sandbox.limits import Limits, SandboxUnavailable

CONTROLLERS = ("memory", "pids")
GROUP = "harness-sandbox"
# Processes besides the program: under bubblewrap, the outer bwrap and the PID namespace's init.
RUNTIME_PROCESSES = 2
_runs = itertools.count()
_prepared: set[Path] = set()  # parents created (and cleaned of stale runs) by this process
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hierarchy:
    root: Path  # where runs are created
    version: int


def hierarchies(isolation: str) -> dict[str, Hierarchy]:
    """Where each controller's runs go; SandboxUnavailable naming a controller that is missing."""
    own: dict[str, str] = {}  # controller ("" for v2) -> the harness's cgroup
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    found: dict[str, Hierarchy] = {}
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, mount, fstype, options, *_ = line.split()
        for controller in CONTROLLERS:
            if controller in found:
                continue
            if fstype == "cgroup" and controller in options.split(","):
                found[controller] = Hierarchy(Path(mount, own.get(controller, "/").lstrip("/"), GROUP), 1)
            elif fstype == "cgroup2" and controller in _read(Path(mount, "cgroup.controllers")).split():
                found[controller] = Hierarchy(Path(mount, GROUP), 2)
    missing = [c for c in CONTROLLERS if c not in found]
    if missing:
        raise SandboxUnavailable(isolation, f"no cgroup hierarchy with the {' and '.join(missing)} controller")
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _prepare(hierarchy: Hierarchy) -> None:
    """Create the runs' parent; in v2, enable the controllers for its children."""
    if hierarchy.version == 2:
        (hierarchy.root.parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))
    hierarchy.root.mkdir(exist_ok=True)
    if hierarchy.version == 2:
        (hierarchy.root / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))
    for stale in hierarchy.root.glob("*-*"):  # left by a harness process that was killed
        if stale.is_dir() and not Path("/proc", stale.name.split("-")[0]).exists():
            with contextlib.suppress(OSError):  # still busy: left for a later process
                _remove(stale, patience_s=0.5)


class RunCgroup:
    """The cgroup(s) of one run: created on entry, emptied and removed on exit."""

    def __init__(self, limits: Limits, isolation: str):
        self.isolation = isolation
        self.found = hierarchies(isolation)
        name = f"{os.getpid()}-{next(_runs)}"
        self.dirs = {c: h.root / name for c, h in self.found.items()}
        try:
            for controller, hierarchy in self.found.items():
                if hierarchy.root not in _prepared or not hierarchy.root.is_dir():
                    _prepare(hierarchy)
                    _prepared.add(hierarchy.root)
                self.dirs[controller].mkdir(exist_ok=True)
            self._limit(limits)
        except OSError as error:
            self.remove()
            raise SandboxUnavailable(
                isolation, f"cannot create a cgroup ({error}); this needs root or a cgroup delegated to this user"
            ) from None
        # Where the child writes its pid before exec, so the whole tree starts inside (one file per directory).
        self.procs = sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def _limit(self, limits: Limits) -> None:
        memory, pids = self.dirs["memory"], self.dirs["pids"]
        limit = str(limits.memory_mb * 2**20)
        if self.found["memory"].version == 1:
            (memory / "memory.limit_in_bytes").write_text(limit)
            if (memory / "memory.memsw.limit_in_bytes").exists():  # swap accounting on: no swapping out of it
                (memory / "memory.memsw.limit_in_bytes").write_text(limit)
        else:
            (memory / "memory.max").write_text(limit)
            if (memory / "memory.swap.max").exists():
                (memory / "memory.swap.max").write_text("0")
        (pids / "pids.max").write_text(str(limits.max_processes + 1 + RUNTIME_PROCESSES))

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of this run for exceeding the memory limit."""
        events = "memory.oom_control" if self.found["memory"].version == 1 else "memory.events"
        for line in _read(self.dirs["memory"] / events).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and int(value) > 0:
                return True
        return False

    def __enter__(self) -> RunCgroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def remove(self) -> None:
        for directory in set(self.dirs.values()):
            try:
                _remove(directory)
            except OSError as error:  # the run's result stands; a later harness process removes it
                log.warning("could not remove the sandbox cgroup %s: %s", directory, error)


def _remove(directory: Path, patience_s: float = 5.0) -> None:
    """rmdir once no process is left (the killed ones may still be exiting)."""
    deadline = time.monotonic() + patience_s
    while directory.exists():
        try:
            directory.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                raise
            for pid in _read(directory / "cgroup.procs").split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
