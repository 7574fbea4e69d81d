"""Atomic file writes and provenance: a killed job never leaves a half-written file that a later
step would trust, and every result records what produced it."""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import liveness

PACKAGES = ("torch", "transformers", "tokenizers", "math-verify", "snakemake", "numpy", "pandas")
PROVENANCE_FILES = ("run.json", "*.jsonl")  # describe a model directory without defining it
OWNER_FILE = ".owner.json"  # in an atomic write's temporary directory: the writing process (harness.liveness)
log = logging.getLogger(__name__)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path` (file or directory) and move it into place only if
    the block finishes; on error the temporary is removed and `path` is left untouched. A kill
    leaves the temporary (for a model, a whole checkpoint): the next write of `path` removes
    every such leftover whose writer is certainly gone."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    (tmp_dir / OWNER_FILE).write_text(json.dumps(liveness.this_process()))
    tmp = tmp_dir / path.name
    try:
        yield tmp
        if path.is_dir():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of earlier writes of `path` whose writing process is gone (killed);
    those of live writers, and unstamped ones, are kept."""
    for tmp_dir in Path(path).parent.glob(glob.escape(f".{Path(path).name}.") + "*"):
        try:
            owner = json.loads((tmp_dir / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not a stamped temporary, or its stamp is being written
        if liveness.is_gone(owner):
            shutil.rmtree(tmp_dir, ignore_errors=True)
            log.warning("removed %s, left by a killed write of %s", tmp_dir, path)


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with atomic_path(path) as tmp, tmp.open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with Path(path).open() as f:
        return [json.loads(line) for line in f if line.strip()]


def fingerprint_files(directory: Path, skip: Iterable[str] = ()) -> str:
    """sha256 over the names and contents of every file below `directory` but those matching a
    glob of `skip`: equal for byte-identical copies, wherever they lie and whenever written."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = file.relative_to(directory).as_posix()
        if any(fnmatch.fnmatch(name, pattern) for pattern in skip):
            continue
        with file.open("rb") as f:
            digest.update(f"{name}\0".encode() + hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


def fingerprint_json(value: Any) -> str:
    """sha256 of a JSON-serialisable value, independent of dict order."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def key_differences(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    """'field: saved -> current' for every leaf that differs, with dotted paths."""
    out = []
    for name in sorted({*saved, *current}, key=str):
        a, b = saved.get(name, "(absent)"), current.get(name, "(absent)")
        if isinstance(a, dict) and isinstance(b, dict):
            out += key_differences(a, b, f"{prefix}{name}.")
        elif a != b:
            out.append(f"{prefix}{name}: {a!r} -> {b!r}")
    return out


def iso_time(seconds: float) -> str:
    """A time stamp (seconds since the epoch) in UTC, to the second."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def git_revision() -> str:
    """HEAD of the repository holding this package, with '+dirty' if it has local changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def python_build() -> str:
    """The interpreter of this process: version and installation, e.g. `3.11.2 (/usr)`. Not part
    of the bits but of the speed (README, Reproducibility: the interpreter)."""
    return f"{platform.python_version()} ({sys.base_prefix})"


def package_versions() -> dict[str, str | None]:
    """The installed version of each of PACKAGES (None where one is not installed)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(config: dict[str, Any], seed: int | None = None, **extra: Any) -> dict[str, Any]:
    """What produced a result: resolved config, seed, package versions, git revision, and the
    numerics it ran under (harness.numerics: mode, kernels, threads, CPU)."""
    from harness import numerics

    return {
        "config": config,
        "seed": seed,
        "git_revision": git_revision(),
        "versions": package_versions(),
        "python": python_build(),
        "numerics": numerics.state(),
        **extra,
    }
