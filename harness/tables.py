"""Results tables built only from per-cell metric files: one row per method, columns
benchmark x metric, cells mean +- std over seeds with a 95% t-interval over seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harness.io import atomic_path
from harness.metrics import FLEXIBLE, t_interval


def load_cells(paths: list[Path]) -> pd.DataFrame:
    """Tidy frame: one row per (model, method, seed, benchmark, level, metric) with its value;
    metrics by the flexible reading keep their `flexible_` prefix."""
    rows = []
    for p in paths:
        cell = json.loads(Path(p).read_text())
        key = {k: cell[k] for k in ("model", "method", "seed", "benchmark")}
        blocks = {"all": cell["metrics"], **cell["metrics"].get("by_level", {})}
        for level, block in blocks.items():
            for metric, value in block.items():
                if isinstance(value, (int, float)) and metric.removeprefix(FLEXIBLE).startswith(("avg@", "pass@")):
                    rows.append({**key, "level": level, "metric": metric, "value": 100.0 * value})
    return pd.DataFrame(rows, columns=["model", "method", "seed", "benchmark", "level", "metric", "value"])


AVERAGE = "Avg"


def with_average(cells: pd.DataFrame, benchmarks: list[str]) -> pd.DataFrame:
    """Add the papers' average column: per (model, method, seed, metric), the unweighted mean
    over `benchmarks`, computed per seed so that its std over seeds is a real seed spread."""
    sub = cells[(cells["level"] == "all") & cells["benchmark"].isin(benchmarks)]
    keys = ["model", "method", "seed", "level", "metric"]
    counts = sub.groupby(keys)["benchmark"].nunique()
    if counts.empty or (counts < len(benchmarks)).any():
        raise ValueError(f"the average over {benchmarks} needs every benchmark in every cell")
    mean = sub.groupby(keys, as_index=False)["value"].mean().assign(benchmark=AVERAGE)
    return pd.concat([cells, mean[cells.columns]], ignore_index=True)


def aggregate(cells: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, number of seeds and 95% t-interval over seeds, per (model, method, benchmark,
    level, metric)."""
    keys = ["model", "method", "benchmark", "level", "metric"]

    def stats(group: pd.Series) -> pd.Series:
        lo, hi = t_interval(group.to_list())
        return pd.Series({"mean": group.mean(), "std": group.std(ddof=1), "seeds": group.size, "ci95_low": lo, "ci95_high": hi})

    return cells.groupby(keys, sort=False)["value"].apply(stats).unstack().reset_index()


def format_cell(row: pd.Series) -> str:
    """'42.1 ± 0.8 [40.2, 44.0]' (std and interval need two seeds or more)."""
    if row["seeds"] < 2:
        return f"{row['mean']:.1f}"
    return f"{row['mean']:.1f} ± {row['std']:.1f} [{row['ci95_low']:.1f}, {row['ci95_high']:.1f}]"


def wide_table(
    summary: pd.DataFrame, rows: list[str], level: str, columns: list[str], labels: dict[str, str] | None = None
) -> pd.DataFrame:
    """Methods as rows (in `rows` order, per model), `columns` as 'benchmark metric' headers;
    with `labels`, a `label` column after the method's name (the name is what a target uses)."""
    sub = summary[summary["level"] == level].copy()
    label = sub["metric"].str.replace("avg@", "Avg@").str.replace("pass@", "Pass@").str.replace(FLEXIBLE, "flexible ")
    sub["column"] = sub["benchmark"] + " " + label
    sub["cell"] = sub.apply(format_cell, axis=1)
    table = sub.pivot_table(index=["model", "method"], columns="column", values="cell", aggfunc="first")
    order = [(m, r) for m in sub["model"].unique() for r in rows if (m, r) in table.index]
    wanted = [c for c in columns if c in table.columns]
    table = table.loc[order, wanted].reset_index()
    if labels is not None:
        table.insert(2, "label", [labels.get(method, method) for method in table["method"]])
    return table


def write_table(frame: pd.DataFrame, md_path: Path, csv_path: Path, title: str, note: str = "") -> None:
    """The table as Markdown (its title, the table, then `note`) and as CSV."""
    with atomic_path(md_path) as tmp:
        tmp.write_text(f"# {title}\n\n" + frame.to_markdown(index=False) + "\n" + note)
    with atomic_path(csv_path) as tmp:
        frame.to_csv(tmp, index=False)
