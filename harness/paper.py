"""A paper's tables rebuilt from our per-cell metric files, in the paper's layout, and the diff
of every cell against the number the paper reports.

The layout of a table is read off the reported numbers themselves (harness/reported): its rows
(in the paper's order, each with the method it maps to), its columns (benchmark x metric, in
the paper's order) and which benchmarks its "Average" covers (those printing that metric).
An experiment's `reproduces` section says which tables it rebuilds and how the paper's models
and benchmarks map onto its own (identity for the paper configs; stand-ins for the tiny mirrors,
e.g. `aime24: arith@5`, the hardest level of the synthetic benchmark).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.config import ExperimentConfig
from harness.io import atomic_path, read_jsonl
from harness.metrics import bootstrap_interval, mean_pass_at_k, t_interval
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
                            "values": values})
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
                           seeds=[len(v) for v in frame["values"]]).drop(columns="values")
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        numbers.to_csv(tmp, index=False)
    return frame


# ---------------------------------------------------------------- diff against the paper


def problem_interval(cfg: ExperimentConfig, generations: dict[tuple[str, str, int, str], Path], model: str,
                     method: str, column: Column) -> tuple[float, float]:
    """95% bootstrap interval over problems of our seed-mean value, from the generations
    (NaN for averages over benchmarks, whose problems are not exchangeable)."""
    if column.benchmark == AVERAGE or column.metric == GAIN:
        return (np.nan, np.nan)
    name, level = stand_in(cfg, column.benchmark)
    per_problem: dict[str, list[float]] = {}
    k = None if column.metric in ("pass@1", "accuracy") or column.metric.startswith("avg@") else int(column.metric[5:])
    for seed in cfg.method_seeds(method):
        path = generations.get((model, method, seed, name))
        if path is None or not path.exists():
            return (np.nan, np.nan)
        counts: dict[str, list[int]] = {}
        for row in read_jsonl(path):
            if level == "all" or str(row["level"]) == level:
                counts.setdefault(row["id"], []).append(int(row["correct"] > 0))
        for pid, c in counts.items():
            value = np.mean(c) if k is None else mean_pass_at_k([sum(c)], len(c), k)
            per_problem.setdefault(pid, []).append(100.0 * value)
    if not per_problem:
        return (np.nan, np.nan)
    return bootstrap_interval([np.mean(v) for v in per_problem.values()])


def diff_frame(cfg: ExperimentConfig, cells: pd.DataFrame, table: str,
               generations: dict[tuple[str, str, int, str], Path]) -> pd.DataFrame:
    """Every reported cell of the table next to ours: delta, 95% t-interval over seeds,
    95% bootstrap interval over problems, and whether the reported value lies inside each."""
    paper = cfg.reproduces.paper
    reported = load_reported(paper)
    reported = reported[reported["table"] == table]
    ours = table_frame(cfg, cells, table)
    _, columns = layout(load_reported(paper), paper, table)
    by_label = {c.label: c for c in columns}
    rows = []
    for _, cell in ours.iterrows():
        match = reported[(reported["row_label"] == cell["row_label"]) & (reported["model"] == cell["paper_model"])
                         & (reported["benchmark"] == cell["benchmark"]) & (reported["metric"] == cell["metric"])]
        if match.empty:
            continue
        values = cell["values"]
        mean = float(np.mean(values)) if values else np.nan
        seed_lo, seed_hi = t_interval(values) if len(values) > 1 else (np.nan, np.nan)
        boot_lo, boot_hi = problem_interval(cfg, generations, cell["model"], cell["method"], by_label[cell["column"]])
        value = float(match["value"].iloc[0])
        rows.append({
            "table": table, "model": cell["paper_model"], "row": cell["row_label"], "method": cell["method"],
            "benchmark": cell["benchmark"], "metric": cell["metric"], "reported": value, "ours": mean,
            "delta": mean - value, "seeds": len(values), "seed_ci_low": seed_lo, "seed_ci_high": seed_hi,
            "in_seed_ci": bool(seed_lo <= value <= seed_hi) if not np.isnan(seed_lo) else None,
            "problem_ci_low": boot_lo, "problem_ci_high": boot_hi,
            "in_problem_ci": bool(boot_lo <= value <= boot_hi) if not np.isnan(boot_lo) else None,
        })
    return pd.DataFrame(rows)


def write_diff(frame: pd.DataFrame, stem: Path, title: str) -> None:
    """{stem}.md (a readable report) and {stem}.csv / .json (machine-readable)."""
    def interval(lo: float, hi: float) -> str:
        return "–" if np.isnan(lo) else f"[{lo:.1f}, {hi:.1f}]"

    def inside(flag: object) -> str:
        return "–" if flag is None or (isinstance(flag, float) and np.isnan(flag)) else ("yes" if flag else "no")

    shown = pd.DataFrame({
        "model": frame["model"], "row": frame["row"], "benchmark": frame["benchmark"], "metric": frame["metric"],
        "reported": frame["reported"].map("{:.1f}".format), "ours": frame["ours"].map("{:.1f}".format),
        "delta": frame["delta"].map("{:+.1f}".format),
        "95% CI seeds": [interval(a, b) for a, b in zip(frame["seed_ci_low"], frame["seed_ci_high"])],
        "reported in": [inside(f) for f in frame["in_seed_ci"]],
        "95% CI problems": [interval(a, b) for a, b in zip(frame["problem_ci_low"], frame["problem_ci_high"])],
        "reported in ": [inside(f) for f in frame["in_problem_ci"]],
    })
    inside_any = frame["in_seed_ci"].fillna(False).astype(bool) | frame["in_problem_ci"].fillna(False).astype(bool)
    summary = f"{int(inside_any.sum())} of {len(frame)} reported values lie inside one of our 95% intervals."
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(f"# {title}\n\n{summary}\n\n" + shown.to_markdown(index=False, disable_numparse=True) + "\n")
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(stem.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(json.loads(frame.to_json(orient="records")), indent=1) + "\n")


def table_methods(cfg: ExperimentConfig, table: str) -> list[str]:
    """Our methods that rows of a paper table map to and that this experiment defines."""
    rows, _ = layout(load_reported(cfg.reproduces.paper), cfg.reproduces.paper, table)
    known = {"base", *cfg.methods, *cfg.ablations}
    methods = [m for _, r in rows if (m := cfg.reproduces.methods.get(r, r)) in known]
    return list(dict.fromkeys([*methods, *([cfg.reproduces.baseline] if cfg.reproduces.baseline else [])]))


def write_paper_table(cfg: ExperimentConfig, table: str, eval_paths: list[Path], table_stem: Path, diff_stem: Path) -> None:
    """The rebuilt table (md, tex, csv) and its diff against the paper (md, csv, json)."""
    from harness.tables import load_cells

    cells = load_cells(eval_paths)
    write_table(cfg, cells, table, table_stem)
    title = f"{cfg.reproduces.paper} {table}: ours ({cfg.name}) against the paper"
    write_diff(diff_frame(cfg, cells, table, generation_paths(eval_paths)), diff_stem, title)


def generation_paths(eval_paths: Iterable[Path]) -> dict[tuple[str, str, int, str], Path]:
    """(model, method, seed, benchmark) -> the generations file next to each cell's metrics."""
    out = {}
    for path in map(Path, eval_paths):
        cell = json.loads(path.read_text())
        out[(cell["model"], cell["method"], cell["seed"], cell["benchmark"])] = path.with_suffix(".generations.jsonl")
    return out


def write_diff_report(diff_paths: list[Path], out: Path) -> None:
    """One Markdown report of every table's diff, in the order given."""
    sections = [Path(p).read_text().replace("# ", "## ", 1) for p in diff_paths]  # each file opens with its title
    with atomic_path(out) as tmp:
        tmp.write_text("# Ours against the papers' reported numbers\n\n" + "\n".join(sections))
