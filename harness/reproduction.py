"""Ours against a paper's reported numbers, judged as Anserini judges its regressions: every
reported cell gets a reproduction status, and the paper's ordering of methods is checked pair
by pair, which is what matters where absolute numbers cannot match (the tiny mirrors).

Status of a reported value v against our cell, mean m over seeds:
- `OK`: v lies inside our 95% noise interval of m: the noise of training seeds and sampling
  with the problems held fixed, since the paper evaluated the same problems
  (harness.compare.fixed_problems_estimate: the t-interval over seeds; with one seed, the
  sampling noise of the samples, for Avg@n-type metrics only).
- `OKISH`: |v - m| <= R = 2.8 sigma_R, the reproducibility limit of ISO 5725-6: two single
  results of different laboratories differ by less than R with 95% probability (2.8 = 1.96
  sqrt 2). sigma_R is the standard deviation of one run of ours (one seed), measured as the
  spread of our seeds (with one seed, its sampling noise).
- `FAIL`: otherwise; `–` where our noise cannot be measured (one seed, and Pass@k).

Ordering: for every pair of rows of a column (one model), the paper's order (the higher
reported value wins; equal values tie) against our paired comparison of the two methods
(harness.compare, seeds x problems, the margin of `statistics.margin`): `reproduced` when our
verdict has the paper's sign (`equivalent` for a tie), `reversed` when it has the other sign
(either sign for a tie), `unresolved` when it is `undecided`, or `equivalent` where the paper
has a strict order.
"""

from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from harness.compare import compare, fixed_problems_estimate
from harness.config import ExperimentConfig
from harness.io import atomic_path
from harness.outcomes import Cell, generation_paths
from harness.paper import AVERAGE, PER_SEED_TABLES, Column, column_panel, layout, table_frame, write_table
from harness.reported import load_reported

STATUSES = ("OK", "OKISH", "FAIL", "–")
ORDERINGS = ("reproduced", "reversed", "unresolved")
REPRODUCIBILITY_LIMIT = 2.8  # ISO 5725-6: R = 2.8 sigma_R


def status(reported: float, ours: float, low: float, high: float, sigma_r: float) -> str:
    """OK / OKISH / FAIL / – of one reported value (module docstring)."""
    if math.isnan(low):
        return "–"
    if low <= reported <= high:
        return "OK"
    return "OKISH" if abs(reported - ours) <= REPRODUCIBILITY_LIMIT * sigma_r else "FAIL"


def ordering(paper_difference: float, verdict: str) -> str:
    """Whether our verdict on A - B reproduces the paper's order of A and B (module docstring)."""
    if verdict == "undecided":
        return "unresolved"
    if paper_difference == 0:
        return "reproduced" if verdict == "equivalent" else "reversed"
    if verdict == "equivalent":
        return "unresolved"
    return "reproduced" if (verdict == "better") == (paper_difference > 0) else "reversed"


def _reported(cfg: ExperimentConfig, table: str) -> pd.DataFrame:
    reported = load_reported(cfg.reproduces.paper)
    return reported[reported["table"] == table]


def _columns(cfg: ExperimentConfig, table: str) -> dict[str, Column]:
    _, columns = layout(load_reported(cfg.reproduces.paper), cfg.reproduces.paper, table)
    return {c.label: c for c in columns}


def with_reported(cfg: ExperimentConfig, cells: pd.DataFrame, table: str) -> pd.DataFrame:
    """Our table (harness.paper.table_frame) with the reported value of each cell; cells the
    paper does not report are dropped."""
    keys = ["row_label", "paper_model", "benchmark", "metric"]
    reported = _reported(cfg, table).rename(columns={"model": "paper_model", "value": "reported"})
    return table_frame(cfg, cells, table).merge(reported[[*keys, "reported"]], on=keys, how="inner")


def diff_frame(cfg: ExperimentConfig, cells: pd.DataFrame, table: str, generations: dict[Cell, Path]) -> pd.DataFrame:
    """Every reported cell of the table next to ours: delta, our 95% noise interval, sigma_R
    and the reproduction status."""
    columns, all_columns = _columns(cfg, table), list(_columns(cfg, table).values())
    rows = []
    for _, cell in with_reported(cfg, cells, table).iterrows():
        values, value = cell["values"], float(cell["reported"])
        mean = float(np.mean(values)) if values else math.nan
        noise = fixed_problems_estimate(column_panel(
            cfg, generations, cell["model"], cell["method"], columns[cell["column"]], all_columns, cell["seed_list"]))
        low, high = noise.interval()
        sigma_r = noise.se * math.sqrt(noise.seeds)  # one run's standard deviation
        rows.append({
            "table": table, "model": cell["paper_model"], "row": cell["row_label"], "method": cell["method"],
            "benchmark": cell["benchmark"], "metric": cell["metric"], "reported": value, "ours": mean,
            "delta": mean - value, "seeds": len(values), "ci_low": low, "ci_high": high, "sigma_r": sigma_r,
            "status": status(value, mean, low, high, sigma_r),
        })
    return pd.DataFrame(rows)


def ordering_frame(cfg: ExperimentConfig, cells: pd.DataFrame, table: str, generations: dict[Cell, Path]) -> pd.DataFrame:
    """Every pair of rows of every column (per model): the paper's difference, ours paired with
    its interval and verdict, and whether the order is reproduced. Tables whose rows are seeds
    of one method have no ordering."""
    if (cfg.reproduces.paper, table) in PER_SEED_TABLES:
        return pd.DataFrame()
    columns, all_columns = _columns(cfg, table), list(_columns(cfg, table).values())
    stats = cfg.statistics
    out = []
    ours = with_reported(cfg, cells, table)
    for (model, label), group in ours.groupby(["model", "column"], sort=False):
        column = columns[label]
        panels = {r["method"]: column_panel(cfg, generations, model, r["method"], column, all_columns, r["seed_list"])
                  for _, r in group.iterrows()}
        for (_, a), (_, b) in combinations(group.iterrows(), 2):
            if a["method"] == b["method"]:
                continue
            c = compare(panels[a["method"]], panels[b["method"]], stats.margin, stats.detect)
            paper_difference = float(a["reported"]) - float(b["reported"])
            out.append({
                "table": table, "model": a["paper_model"], "column": label, "average": column.benchmark == AVERAGE,
                "row_a": a["row_label"], "row_b": b["row_label"], "paper_difference": paper_difference,
                "difference": c.difference, "ci_low": c.low, "ci_high": c.high, "seeds": c.seeds,
                "verdict": c.verdict, "ordering": ordering(paper_difference, c.verdict),
            })
    return pd.DataFrame(out)


def _counts(values: pd.Series, labels: tuple[str, ...]) -> str:
    return ", ".join(f"{int((values == s).sum())} {s}" for s in labels)


def _ordering_lines(order: pd.DataFrame) -> list[str]:
    """Markdown: the orderings counted per column, and the pairs of the Average columns (of the
    first column when the table has no Average)."""
    counts = order.groupby("column", sort=False)["ordering"].value_counts().unstack(fill_value=0)
    average = bool(order["average"].any())
    shown = order[order["average"]] if average else order[order["column"] == order["column"].iloc[0]]
    pairs = pd.DataFrame({
        "column": shown["column"], "pair": shown["row_a"] + " vs " + shown["row_b"],
        "paper": shown["paper_difference"].map("{:+.1f}".format),
        "ours, paired [95% CI]": [f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]"
                                  for d, lo, hi in zip(shown["difference"], shown["ci_low"], shown["ci_high"])],
        "verdict": shown["verdict"], "ordering": shown["ordering"],
    })
    which = "the Average columns" if average else f"the {shown['column'].iloc[0]} column"
    return ["", f"Ordering of methods, {len(order)} pairs over every column: {_counts(order['ordering'], ORDERINGS)}.",
            "", counts.reindex(columns=list(ORDERINGS), fill_value=0).reset_index().to_markdown(index=False),
            "", f"Pairs of {which} (every pair of every column: the _ordering.csv file):", "",
            pairs.to_markdown(index=False, disable_numparse=True)]


def write_diff(frame: pd.DataFrame, order: pd.DataFrame, stem: Path, title: str) -> None:
    """{stem}.md (a readable report), {stem}.csv / .json (the cells) and {stem}_ordering.csv."""
    def interval(lo: float, hi: float) -> str:
        return "–" if np.isnan(lo) else f"[{lo:.1f}, {hi:.1f}]"

    shown = pd.DataFrame({
        "model": frame["model"], "row": frame["row"], "benchmark": frame["benchmark"], "metric": frame["metric"],
        "reported": frame["reported"].map("{:.1f}".format), "ours": frame["ours"].map("{:.1f}".format),
        "delta": frame["delta"].map("{:+.1f}".format),
        "95% noise interval": [interval(a, b) for a, b in zip(frame["ci_low"], frame["ci_high"])],
        "R = 2.8 σ_R": frame["sigma_r"].map(lambda s: "–" if np.isnan(s) else f"{REPRODUCIBILITY_LIMIT * s:.1f}"),
        "status": frame["status"],
    })
    text = [f"# {title}", "", f"Reproduction status of {len(frame)} reported values: {_counts(frame['status'], STATUSES)}."]
    text += _ordering_lines(order) if not order.empty else []
    text += ["", shown.to_markdown(index=False, disable_numparse=True)]
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text("\n".join(text) + "\n")
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(stem.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(json.loads(frame.to_json(orient="records")), indent=1) + "\n")
    with atomic_path(stem.with_name(f"{stem.name}_ordering.csv")) as tmp:
        order.to_csv(tmp, index=False)


def write_paper_table(cfg: ExperimentConfig, table: str, eval_paths: list[Path], table_stem: Path, diff_stem: Path) -> None:
    """The rebuilt table (md, tex, csv) and its diff against the paper (md, csv, json, _ordering.csv)."""
    from harness.tables import load_cells

    cells = load_cells(eval_paths)
    write_table(cfg, cells, table, table_stem)
    generations = generation_paths(eval_paths)
    title = f"{cfg.reproduces.paper} {table}: ours ({cfg.name}) against the paper"
    write_diff(diff_frame(cfg, cells, table, generations), ordering_frame(cfg, cells, table, generations), diff_stem, title)


def write_diff_report(diff_paths: list[Path], out: Path) -> None:
    """One Markdown report of every table's diff, in the order given."""
    sections = [Path(p).read_text().replace("# ", "## ", 1) for p in diff_paths]  # each file opens with its title
    with atomic_path(out) as tmp:
        tmp.write_text("# Ours against the papers' reported numbers\n\n" + "\n".join(sections))
