"""A record of one pipeline invocation: wall time, machine, numerics and git revision.

The Snakefile's `onsuccess` handler writes it when the invocation produced results, so that
every figure the README quotes from a run (harness/readme.py) comes with how long it took,
where, under which numerics and at which revision. An invocation that had nothing to do leaves
the previous record in place.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness import numerics
from harness.io import git_revision, iso_time, python_build, write_json


def newer(paths: list[Path], since: float) -> int:
    return sum(p.stat().st_mtime >= since for p in paths)


def write_run_record(out: Path, started: float, cores: int, command: list[str], experiments: dict[str, dict]) -> dict | None:
    """Record this invocation (and the resolved config of each experiment it ran) in `out` if it
    wrote any result under `out`'s directory (results/)."""
    finished = time.time()
    results = out.parent
    cells = [p for exp in experiments for p in (results / exp).glob("**/eval/*.json")]
    models = [p for exp in experiments for p in (results / exp).glob("**/model/run.json")]
    tables = [p for exp in experiments for p in (results / exp).glob("tables/*")]
    if not newer(cells + models + tables, started):
        return None
    state = numerics.state()
    record = {
        "started": iso_time(started),
        "finished": iso_time(finished),
        "wall_seconds": round(finished - started, 1),
        "command": command,
        "cores": cores,
        "cells_evaluated": newer(cells, started),
        "models_trained": newer(models, started),  # base models included
        "from_scratch": bool(models) and newer(models, started) == len(models),
        "git_revision": git_revision(),
        "python": python_build(),
        "experiments": experiments,
        "numerics": {"mode": state["mode"], "job_threads": numerics.job_threads(cores), "environment": state["environment"],
                     "aten_capability": state["aten_capability"], "cpu": state["cpu"],
                     "matmul": numerics.PINNED_MATMUL if state["mode"] == "pinned" else state["matmul"],
                     "vector_math": numerics.PINNED_VECTOR_MATH if state["mode"] == "pinned" else state["vector_math"],
                     "libc": state["libc"]},
    }
    write_json(out, record)
    return record
