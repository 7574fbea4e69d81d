"""Running one program in the sandbox: set up, limit, wait, kill, classify."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from harness.sandbox import bubblewrap
from harness.sandbox.cgroup import RUNTIME_PROCESSES, RunCgroup
from harness.sandbox.limits import STRICTEST, Isolation, Limits, SandboxUnavailable
from harness.sandbox.runner import STARTED

DETAIL_CHARS = 500
START_ATTEMPTS = 3  # a sandbox that fails to come up is retried (a brief PID shortage), then refused
RUNNER = Path(__file__).with_name("runner.py").read_text()


@dataclass(frozen=True)
class Program:
    main: str  # the script to run, as main.py
    inputs: Mapping[str, str] = field(default_factory=dict)  # more files beside it (read-only): modules, data


@dataclass(frozen=True)
class ExecResult:
    status: Literal["passed", "failed", "timeout"]  # passed: exited with status 0
    detail: str  # last ~500 chars of stderr, or the reason
    stdout: bytes = b""  # what the program wrote to its stdout (at most RLIMIT_FSIZE)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


_verified: set[str] = set()  # isolations that ran a program in this process; a failure is never remembered


def require(isolation: Isolation) -> None:
    """Refuse (SandboxUnavailable, naming what is missing) unless `isolation` works here. Checked
    again on every call until it has worked once; every later run still checks that it started."""
    if isolation in _verified:
        return
    started = _attempt(Program("pass"), Limits(timeout_s=30), isolation)
    if isinstance(started, str):
        raise SandboxUnavailable(isolation, f"a trivial program did not start: {started}")
    if not started.passed:
        raise SandboxUnavailable(isolation, f"a trivial program failed: {started.detail}")
    _verified.add(isolation)


def run_program(program: str | Program, limits: Limits = Limits(), isolation: Isolation = STRICTEST) -> ExecResult:
    """Run one Python program in the sandbox; never raises because of what the program does, only
    (SandboxUnavailable) when the sandbox itself cannot run it."""
    require(isolation)
    program = Program(program) if isinstance(program, str) else program
    for attempt in range(START_ATTEMPTS):
        result = _attempt(program, limits, isolation)
        if isinstance(result, ExecResult):
            return result
        time.sleep(0.1 * (attempt + 1))
    raise SandboxUnavailable(isolation, f"the sandbox failed to start a program {START_ATTEMPTS} times: {result}")


def run_programs(
    programs: Sequence[str | Program], limits: Limits = Limits(), isolation: Isolation = STRICTEST, workers: int = 2
) -> list[ExecResult]:
    """Run programs concurrently, results in input order. Threads suffice: each one only waits on a subprocess."""
    require(isolation)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(functools.partial(run_program, limits=limits, isolation=isolation), programs))


def _write_program(program: Program, directory: Path) -> None:
    directory.mkdir()
    directory.chmod(0o755)  # whatever the umask: the sandbox's user must read it
    for name, text in {**program.inputs, "run.py": RUNNER, "main.py": program.main}.items():
        Path(directory, name).write_text(text, encoding="utf-8")
        Path(directory, name).chmod(0o644)


def _attempt(program: Program, limits: Limits, isolation: Isolation) -> ExecResult | str:
    """One run; the sandbox's own error (a str) if it never started the program."""
    # Cleanup errors are ignored: a just-killed straggler may still be finishing a write into the scratch dir.
    with (
        tempfile.TemporaryDirectory(prefix="sandbox-", ignore_cleanup_errors=True) as workdir,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
        RunCgroup(limits, isolation) if isolation == "bubblewrap-cgroup" else contextlib.nullcontext() as group,
    ):
        program_dir = Path(workdir, "program")
        _write_program(program, program_dir)
        if isolation == "none":
            scratch = Path(workdir, "scratch")
            scratch.mkdir()
            argv, cwd = [bubblewrap.INTERPRETER, "-I", "-S", str(program_dir / "run.py"), str(program_dir)], scratch
        else:
            argv, cwd, scratch = bubblewrap.command(limits, program_dir, isolation), Path("/"), Path(bubblewrap.SCRATCH)
        enter = functools.partial(_enter, limits, _process_limit(limits, isolation, group), group.procs if group else [])
        returncode, expired = _wait(argv, cwd, scratch, stdout, stderr, limits.timeout_s, enter)
        errors = _tail(stderr)
        stdout.seek(0)
        output = stdout.read()
        if not output.startswith(STARTED):  # no code of the program ran: the sandbox's failure, not the program's
            return errors or (f"nothing started within {limits.timeout_s:g} s" if expired else f"exit status {returncode}")
        if expired:
            return ExecResult("timeout", f"timed out after {limits.timeout_s:g} s")
        output = output[len(STARTED):]
        if group is not None and group.out_of_memory():
            reason = f"killed by the kernel: its processes together exceeded {limits.memory_mb} MB"
            return ExecResult("failed", f"{errors}{reason}"[-DETAIL_CHARS:], output)
        if returncode < 0:
            return ExecResult("failed", errors or f"killed by signal {-returncode} ({signal.strsignal(-returncode)})", output)
        if returncode > 0:
            return ExecResult("failed", errors or f"exit status {returncode}", output)
        return ExecResult("passed", errors, output)


def _wait(
    argv: list[str], cwd: Path, scratch: Path, stdout: IO[bytes], stderr: IO[bytes], timeout_s: float,
    enter: Callable[[], None],
) -> tuple[int, bool]:
    """Start the program, kill its process group at the timeout: (exit status, whether it expired).
    `scratch` is the writable directory as the program sees it: its HOME and TMPDIR."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch), "LANG": "C.UTF-8"},
        stdin=subprocess.DEVNULL,
        stdout=stdout,  # files, not pipes: a straggler holding a pipe open cannot make us wait
        stderr=stderr,
        start_new_session=True,  # its own process group, so one killpg reaches every child
        preexec_fn=enter,
    )
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill_group(process.pid)

    # A timer rather than wait(timeout=...), which polls with sleeps of up to 50 ms: wait() wakes on the exit.
    timer = threading.Timer(timeout_s, expire)
    timer.start()
    try:
        returncode = process.wait()
    finally:
        timer.cancel()
        _kill_group(process.pid)  # also after a normal exit: children it left running in the background
    return returncode, expired.is_set()


def _process_limit(limits: Limits, isolation: Isolation, group: RunCgroup | None) -> int | None:
    """RLIMIT_NPROC: with a cgroup, pids.max counts the tree and this stays off (it counts every
    process of the user, concurrent runs included); without, the program's user's current tasks
    plus headroom for the program and bubblewrap's two processes (the kernel exempts root)."""
    if group is not None:
        return None
    uid = int(bubblewrap.NOBODY) if os.geteuid() == 0 and isolation != "none" else os.getuid()
    return _user_tasks(uid) + limits.max_processes + 1 + RUNTIME_PROCESSES


def _user_tasks(uid: int) -> int:
    """Tasks (processes and threads) of a real user: what the kernel counts against RLIMIT_NPROC."""
    tasks = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:  # the process exited while we looked
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if int(fields["Uid"].split()[0]) == uid:
            tasks += int(fields["Threads"])
    return tasks


def _enter(limits: Limits, processes: int | None, cgroup_procs: list[str]) -> None:
    """Runs in the child between fork and exec (keep it to syscalls: the parent may have threads):
    join the run's cgroup, then set the rlimits, which bwrap, setpriv and the program inherit."""
    for path in cgroup_procs:
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, b"0")  # 0: the writing process
        os.close(fd)
    for which, value in (
        (resource.RLIMIT_AS, limits.memory_mb * 2**20),
        (resource.RLIMIT_CPU, math.ceil(limits.timeout_s) + 1),  # a backstop; the wall clock normally fires first
        (resource.RLIMIT_FSIZE, limits.max_file_mb * 2**20),
        (resource.RLIMIT_CORE, 0),
        *([(resource.RLIMIT_NPROC, processes)] if processes is not None else []),
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
