"""Unbiased pass@k for every k from 1 to n, per cell and over seeds: how methods trade Pass@1
for Pass@k, the papers' exploration argument (results/{exp}/tables/passk.{md,csv}; the figure
is harness.figures.passk_curves)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.io import atomic_path
from harness.metrics import pass_at_k_table
from harness.outcomes import Cell, load_outcomes


def passk_curves(generations: dict[Cell, Path]) -> pd.DataFrame:
    """One row per (model, method, seed, benchmark, k): the mean over problems of the unbiased
    pass@k from the cell's n samples, in points, for k = 1..n."""
    rows = []
    for (model, method, seed, benchmark), path in generations.items():
        correct = load_outcomes(Path(path)).correct  # (P, n)
        n = correct.shape[1]
        curve = 100.0 * pass_at_k_table(n)[correct.sum(axis=1)].mean(axis=0)  # (n,)
        rows += [{"model": model, "method": method, "seed": seed, "benchmark": benchmark, "k": k + 1, "value": v}
                 for k, v in enumerate(curve)]
    return pd.DataFrame(rows, columns=["model", "method", "seed", "benchmark", "k", "value"])


def aggregate(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof 1), min and max over seeds, and the number of seeds, per
    (model, benchmark, method, k)."""
    keys = ["model", "benchmark", "method", "k"]
    stats = curves.groupby(keys, sort=False)["value"].agg(["mean", "std", "min", "max", "count"])
    return stats.rename(columns={"count": "seeds"}).reset_index()


def write_passk(curves: pd.DataFrame, rows: list[str], stem: Path, title: str) -> None:
    """{stem}.md: per benchmark, methods (in `rows` order) x k, 'mean ± std' over seeds;
    {stem}.csv: every aggregate in long form."""
    summary = aggregate(curves)
    sections = [f"# {title}, mean ± std over seeds, %"]
    for (model, benchmark), group in summary.groupby(["model", "benchmark"], sort=False):
        group = group.assign(cell=[f"{m:.1f}" if n < 2 else f"{m:.1f} ± {s:.1f}"
                                   for m, s, n in zip(group["mean"], group["std"], group["seeds"])])
        wide = group.pivot(index="method", columns="k", values="cell")
        wide = wide.loc[[r for r in rows if r in wide.index]].rename(columns=lambda k: f"Pass@{k}")
        sections += ["", f"## {model}, {benchmark}", "", wide.reset_index().to_markdown(index=False, disable_numparse=True)]
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text("\n".join(sections) + "\n")
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        summary.to_csv(tmp, index=False)
