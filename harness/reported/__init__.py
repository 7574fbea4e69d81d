"""Numbers reported in the papers this harness reproduces, as tidy long tables.

One CSV per paper (``<paper>.csv`` next to this module, one row per printed number; columns in ``COLUMNS``).
``README.md`` in this folder documents the columns, the method-name mapping and every transcription judgement.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

PAPERS = ("tampo", "introllm", "multitemp")
COLUMNS = ("paper", "table", "row_label", "method", "model", "benchmark", "metric", "value", "std", "note")
BENCHMARKS = frozenset(
    {
        "aime24",
        "aime25",
        "amc23",
        "math500",
        "minerva",
        "olympiadbench",
        "omni-math",
        "gpqa-diamond",
        "mmlu-pro",
        "humaneval",
        "ecqa",
    }
)
REPORTED_DIR = Path(__file__).resolve().parent


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_reported_csv(path: str | Path) -> pd.DataFrame:
    """Read and validate one paper's CSV; raise ValueError naming the file, line and field of the first problem."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path}: line 1, field 'header': empty file")
    header = tuple(rows[0])
    for column in COLUMNS:
        if column not in header:
            raise ValueError(f"{path}: line 1, field {column!r}: required column missing (columns must be {COLUMNS})")
    if header != COLUMNS:
        raise ValueError(f"{path}: line 1, field 'header': columns {header} differ from {COLUMNS}")
    records: list[dict[str, str]] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            raise ValueError(f"{path}: line {line}, field 'row': {len(row)} fields, expected {len(COLUMNS)}")
        record = dict(zip(COLUMNS, row))
        problems = {
            "paper": record["paper"] != path.stem and f"{record['paper']!r} is not the file's paper {path.stem!r}",
            "table": not record["table"].strip() and "empty",
            "row_label": not record["row_label"].strip() and "empty",
            "metric": not record["metric"].strip() and "empty",
            "benchmark": record["benchmark"] not in BENCHMARKS | {"avg", ""}
            and f"{record['benchmark']!r} is not a registry benchmark, 'avg' or empty",
            "value": _number(record["value"]) is None and f"{record['value']!r} is not a finite number",
            "std": record["std"] != "" and _number(record["std"]) is None and f"{record['std']!r} is not a number",
        }
        for field, problem in problems.items():
            if problem:
                raise ValueError(f"{path}: line {line}, field {field!r}: {problem}")
        records.append(record)
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    frame["value"] = frame["value"].astype(float)
    frame["std"] = pd.to_numeric(frame["std"].replace("", None), errors="raise").astype(float)
    return frame


def load_reported(paper: str | None = None) -> pd.DataFrame:
    """All reported numbers of one paper (or of every paper in ``PAPERS`` when None), validated."""
    if paper is not None and paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; expected one of {PAPERS}")
    papers = PAPERS if paper is None else (paper,)
    return pd.concat([read_reported_csv(REPORTED_DIR / f"{p}.csv") for p in papers], ignore_index=True)
