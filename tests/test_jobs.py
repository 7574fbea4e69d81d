"""A job's process: garbage collection frozen as the job starts and ends (harness.jobs.job_process)."""

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
