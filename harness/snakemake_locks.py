"""A killed Snakemake run leaves its lock (.snakemake/locks/), and the next plain run stops with
a LockException. Each run of this workflow stamps itself in .snakemake/harness-runs/ (host, pid
and start time: harness.liveness) and removes its stamp when it exits. A run that finds locks
while every stamped run is certainly gone, and at least one of them was killed (its stamp is
still there), removes the locks and says so. Locks that a live run, a run on another host or an
unstamped Snakemake may hold are kept: Snakemake then stops and names `--unlock`.
"""

from __future__ import annotations

import atexit
import json
import shutil
from pathlib import Path

from harness import liveness

RUNS_DIR = "harness-runs"


def clear_stale_locks(snakemake_dir: Path) -> str | None:
    """Remove the locks of killed runs of this workflow (see the module docstring) and the
    stamps of runs that are gone; returns a line saying what was removed, or None."""
    runs = Path(snakemake_dir) / RUNS_DIR
    stamps = {path: json.loads(path.read_text()) for path in runs.glob("*.json")} if runs.is_dir() else {}
    gone = {path: stamp for path, stamp in stamps.items() if liveness.is_gone(stamp)}
    for path in gone:
        path.unlink(missing_ok=True)
    locks = Path(snakemake_dir) / "locks"
    if not gone or len(gone) < len(stamps) or not any(locks.glob("*.lock")):
        return None
    shutil.rmtree(locks)
    pids = ", ".join(str(stamp["pid"]) for stamp in gone.values())
    return f"removed the Snakemake lock left by a killed run of this workflow (pid {pids}, gone)"


def stamp_this_run(snakemake_dir: Path) -> Path:
    """Record this process as a run of the workflow until it exits."""
    runs = Path(snakemake_dir) / RUNS_DIR
    runs.mkdir(parents=True, exist_ok=True)
    me = liveness.this_process()
    path = runs / f"{me['host']}-{me['pid']}.json"
    path.write_text(json.dumps(me))
    atexit.register(path.unlink, missing_ok=True)
    return path
