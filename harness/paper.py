"""A paper's tables rebuilt from our per-cell metric files, in the paper's layout (the diff
against the numbers the paper reports is harness.reproduction).

The layout of a table is read off the reported numbers themselves (harness/reported): its rows
(in the paper's order, each with the method it maps to), its columns (benchmark x metric, in
the paper's order) and which benchmarks its "Average" covers (those printing that metric).
An experiment's `reproduces` section says which tables it rebuilds and how the paper's models
and benchmarks map onto its own (identity for the paper configs; stand-ins for the tiny mirrors,
e.g. `aime24: arith@5`, the hardest level of the synthetic benchmark).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.compare import Panel
from harness.config import ExperimentConfig
from harness.io import atomic_path
from harness.outcomes import Cell, panel
from harness.reported import load_reported

AVERAGE = "avg"
GAIN = "gain_vs_baseline"  # points over reproduces.baseline, in Pass@1
PER_SEED_TABLES = {("tampo", "table4")}  # rows "Run 1..3" are seeds of one method


@dataclass(frozen=True)
class Column:
    benchmark: str  # the paper's benchmark, or "avg"
    metric: str  # the paper's metric (pass@1, pass@8, avg@8, accuracy)

    @property
    def label(self) -> str:
        name = "Average" if self.benchmark == AVERAGE else self.benchmark
        return f"{name} {self.metric.replace('pass@', 'Pass@').replace('avg@', 'Avg@').replace('accuracy', 'Acc')}"


def our_metric(metric: str, cfg: ExperimentConfig) -> str:
    """The key of our metric files that a reported metric means: Pass@1 and accuracy are the
    mean correctness over the n samples (Avg@n); Pass@k is the unbiased estimator."""
    if metric in ("pass@1", "accuracy") or metric.startswith("avg@"):
        return f"avg@{cfg.eval.n_samples}"
    k = int(metric.removeprefix("pass@"))
    if k not in cfg.eval.ks:
        raise ValueError(f"reported metric {metric} needs k = {k} in eval.ks (have {cfg.eval.ks})")
    return metric


def stand_in(cfg: ExperimentConfig, benchmark: str) -> tuple[str, str]:
    """(our benchmark, level) standing in for a paper's benchmark; level 'all' unless 'name@level'."""
    ours = cfg.reproduces.benchmarks.get(benchmark, benchmark)
    name, _, level = ours.partition("@")
    return name, level or "all"


def layout(reported: pd.DataFrame, paper: str, table: str) -> tuple[list[tuple[str, str]], list[Column]]:
    """The table's rows [(row label, method)] and columns, in the paper's order."""
    sub = reported[(reported["paper"] == paper) & (reported["table"] == table)]
    if sub.empty:
        raise ValueError(f"no reported numbers for {paper} {table}")
    rows = list(dict.fromkeys(zip(sub["row_label"], sub["method"])))
    columns = list(dict.fromkeys(Column(b, m) for b, m in zip(sub["benchmark"], sub["metric"]) if b))
    return rows, columns


def cell_values(cfg: ExperimentConfig, cells: pd.DataFrame, model: str, method: str, column: Column,
                covered: list[str], seed: int | None = None) -> list[float]:
    """Our value of one table cell, per seed (one value if `seed` is given)."""
    if column.metric == GAIN:
        if cfg.reproduces.baseline is None:
            raise ValueError("reported gains need reproduces.baseline: the method they are over")
        pass1 = Column(column.benchmark, "pass@1")
        ours = cell_values(cfg, cells, model, method, pass1, covered, seed)
        base = cell_values(cfg, cells, model, cfg.reproduces.baseline, pass1, covered, seed)
        return [a - b for a, b in zip(ours, base)] if len(ours) == len(base) else []
    metric = our_metric(column.metric, cfg)
    benchmarks = covered if column.benchmark == AVERAGE else [column.benchmark]
    per_benchmark = []
    for benchmark in benchmarks:
        name, level = stand_in(cfg, benchmark)
        sel = cells[(cells["model"] == model) & (cells["method"] == method) & (cells["benchmark"] == name)
                    & (cells["level"] == level) & (cells["metric"] == metric)]
        if seed is not None:
            sel = sel[sel["seed"] == seed]
        per_benchmark.append(sel.set_index("seed")["value"])
    if not per_benchmark or any(s.empty for s in per_benchmark):
        return []
    return list(pd.concat(per_benchmark, axis=1).dropna().mean(axis=1))  # the average per seed


def covered_benchmarks(columns: list[Column], metric: str) -> list[str]:
    """The benchmarks a table's Average covers for `metric`: those it prints that metric for."""
    return [c.benchmark for c in columns if c.metric == metric and c.benchmark != AVERAGE]


def column_panel(cfg: ExperimentConfig, generations: dict[Cell, Path], model: str, method: str, column: Column,
                 columns: list[Column], seeds: list[int] | None = None) -> Panel:
    """Our per-(seed, problem) values of one column of a paper table (harness.outcomes), on the
    method's seeds (or `seeds`); a reported gain is the method's Pass@1 less the baseline's,
    paired on the seeds both have."""
    seeds = cfg.method_seeds(method) if seeds is None else seeds
    if column.metric == GAIN:
        if cfg.reproduces.baseline is None:
            raise ValueError("reported gains need reproduces.baseline: the method they are over")
        pass1 = Column(column.benchmark, "pass@1")
        common = [s for s in seeds if s in cfg.method_seeds(cfg.reproduces.baseline)]
        ours = column_panel(cfg, generations, model, method, pass1, columns, common)
        return ours - column_panel(cfg, generations, model, cfg.reproduces.baseline, pass1, columns, common)
    benchmarks = covered_benchmarks(columns, column.metric) if column.benchmark == AVERAGE else [column.benchmark]
    items = [stand_in(cfg, b) for b in benchmarks]
    return panel(generations, model, method, seeds, items, our_metric(column.metric, cfg))


def table_frame(cfg: ExperimentConfig, cells: pd.DataFrame, table: str) -> pd.DataFrame:
    """Long form of one rebuilt table: one row per (model, row, column) with our seed values."""
    paper = cfg.reproduces.paper
    reported = load_reported(paper)
    rows, columns = layout(reported, paper, table)
    known = {"base", *cfg.methods, *cfg.ablations}
    out = []
    for model, paper_model in cfg.reproduces.model_names(cfg).items():
        table_models = set(reported[(reported["table"] == table)]["model"])
        if paper_model not in table_models:
            continue
        for i, (label, method) in enumerate(rows):
            per_seed = (paper, table) in PER_SEED_TABLES
            ours = cfg.reproduces.methods.get(method, method)
            if ours not in known or (per_seed and i >= len(cfg.method_seeds(ours))):
                continue
            for column in columns:
                covered = covered_benchmarks(columns, column.metric)
                seed = cfg.method_seeds(ours)[i] if per_seed else None
                values = cell_values(cfg, cells, model, ours, column, covered, seed)
                out.append({"model": model, "paper_model": paper_model, "row_label": label, "method": ours,
                            "benchmark": column.benchmark, "metric": column.metric, "column": column.label,
                            "values": values, "seed_list": cfg.method_seeds(ours) if seed is None else [seed]})
    return pd.DataFrame(out)


def formatted(frame: pd.DataFrame, style: str) -> pd.DataFrame:
    """The table as text: 'mean ± std' per cell, the best of each column in bold and the second
    underlined, as the papers mark them (style: markdown, latex or plain)."""
    frame = frame.assign(mean=[np.mean(v) if v else np.nan for v in frame["values"]],
                         std=[np.std(v, ddof=1) if len(v) > 1 else np.nan for v in frame["values"]])
    marks = {"markdown": ("**{}**", "<u>{}</u>"), "latex": ("\\textbf{{{}}}", "\\underline{{{}}}"), "plain": ("{}", "{}")}
    bold, under = marks[style]
    pm = " $\\pm$ " if style == "latex" else " ± "
    texts = []
    for _, row in frame.iterrows():
        if np.isnan(row["mean"]):
            texts.append("–")
            continue
        text = f"{row['mean']:.1f}" + ("" if np.isnan(row["std"]) else f"{pm}{row['std']:.1f}")
        peers = frame[(frame["model"] == row["model"]) & (frame["column"] == row["column"])]
        ranks = sorted({round(m, 6) for m in peers["mean"] if not np.isnan(m)}, reverse=True)
        rows = int(peers["mean"].notna().sum())  # with two rows only the best is marked
        if rows > 1 and round(row["mean"], 6) == ranks[0]:
            text = bold.format(text)
        elif rows > 2 and len(ranks) > 1 and round(row["mean"], 6) == ranks[1]:
            text = under.format(text)
        texts.append(text)
    frame = frame.assign(text=texts)
    wide = frame.pivot_table(index=["model", "row_label"], columns="column", values="text", aggfunc="first", sort=False)
    order = list(dict.fromkeys(frame["column"]))
    return wide[order].reset_index()


def write_table(cfg: ExperimentConfig, cells: pd.DataFrame, table: str, stem: Path) -> pd.DataFrame:
    """{stem}.md, .tex and .csv (numbers: mean and std per cell) of one rebuilt table."""
    frame = table_frame(cfg, cells, table)
    if frame.empty:
        raise ValueError(f"{cfg.reproduces.paper} {table}: none of its rows or models is in this experiment")
    title = f"{cfg.reproduces.paper} {table}, rebuilt by {cfg.name}: mean ± std over {len(cfg.seeds)} seeds, %"
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(f"# {title}\n\n" + formatted(frame, "markdown").to_markdown(index=False, disable_numparse=True) + "\n")
    with atomic_path(stem.with_suffix(".tex")) as tmp:
        tmp.write_text(formatted(frame, "latex").to_latex(index=False, escape=False, caption=title))
    numbers = frame.assign(mean=[np.mean(v) if v else np.nan for v in frame["values"]],
                           std=[np.std(v, ddof=1) if len(v) > 1 else np.nan for v in frame["values"]],
                           seeds=[len(v) for v in frame["values"]]).drop(columns=["values", "seed_list"])
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        numbers.to_csv(tmp, index=False)
    return frame


def table_methods(cfg: ExperimentConfig, table: str) -> list[str]:
    """Our methods that rows of a paper table map to and that this experiment defines."""
    rows, _ = layout(load_reported(cfg.reproduces.paper), cfg.reproduces.paper, table)
    known = {"base", *cfg.methods, *cfg.ablations}
    methods = [m for _, r in rows if (m := cfg.reproduces.methods.get(r, r)) in known]
    return list(dict.fromkeys([*methods, *([cfg.reproduces.baseline] if cfg.reproduces.baseline else [])]))
