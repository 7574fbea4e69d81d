"""A job's process: garbage collection frozen as the job starts and ends (harness.jobs.job_process),
freed memory kept for the next tensors (harness.jobs.keep_freed_memory)."""

import gc
import json
import subprocess
import sys
from pathlib import Path

from harness.jobs import job

REPO = Path(__file__).resolve().parent.parent


def freeze_counts(body: str) -> tuple[list[int], bool]:
    """gc's frozen-object count in a fresh process before, at the start of and after a
    `job_process` whose body is `body`, and whether a RuntimeError came out of it."""
    code = ("import gc, json\nfrom harness.jobs import job_process\ncounts, raised = [gc.get_freeze_count()], False\n"
            "try:\n    with job_process():\n        counts.append(gc.get_freeze_count())\n"
            f"        {body}\nexcept RuntimeError:\n    raised = True\n"
            "counts.append(gc.get_freeze_count())\nprint(json.dumps([counts, raised]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    counts, raised = json.loads(done.stdout)
    return counts, raised


def test_a_job_process_freezes_what_exists_at_its_start_and_what_it_made_by_its_end() -> None:
    (before, at_start, at_end), raised = freeze_counts("made = [[i] for i in range(10_000)]")
    assert not raised and before == 0 and at_start > 0  # torch-free here: the modules imported so far
    assert at_end - at_start > 9_900  # the 10,001 lists the job made, less the few start-up objects it freed


def test_a_failing_job_is_frozen_too_and_its_error_still_raised() -> None:
    (before, at_start, at_end), raised = freeze_counts(
        "made = [[i] for i in range(10_000)]; raise RuntimeError('job failed')")
    assert raised and before == 0 and at_end - at_start > 9_900


def test_a_job_run_in_process_leaves_garbage_collection_alone() -> None:
    """`job` alone (the command line, and tests calling it) freezes nothing: a long-lived process
    keeps collecting what it no longer uses."""
    before = gc.get_freeze_count()
    with job(1, None):
        made = [[i] for i in range(1_000)]
    assert len(made) == 1_000 and gc.get_freeze_count() == before


CHURN = """
import ctypes, resource, sys
from harness.jobs import keep_freed_memory
if sys.argv[1] == "kept":
    assert keep_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]

def step():  # what a training step does to the allocator: blocks of MiBs, written, then freed
    blocks = [libc.malloc(4 << 20) for _ in range(12)]
    for block in blocks:
        ctypes.memset(block, 1, 4 << 20)
    for block in blocks:
        libc.free(block)

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_freed_memory_is_kept_for_the_next_step_instead_of_faulted_in_again() -> None:
    """Ten steps of 12 blocks of 4 MiB after the first: with glibc's defaults every step hands
    its 48 MiB back to the kernel and faults it in again (12,288 pages a step); kept, none."""
    faults = {mode: int(subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True,
                                       check=True, cwd=REPO).stdout) for mode in ("default", "kept")}
    assert faults["default"] > 10 * 12_288 * 0.9
    assert faults["kept"] < 100
