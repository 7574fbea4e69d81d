"""The pages `snakemake --report` shows for an experiment's tables: each CSV (claims: JSON) as an
HTML table, since the report shows HTML inline but a CSV only as a download, with a caption
saying what the table holds. The same captions head the report's entries (rule report_tables),
and the figures' captions (rule figures) are here too: the workflow reads them when it builds
the DAG, without importing the plotting code."""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from harness.io import atomic_path

CELLS = "cells: mean ± std over seeds [95% t-interval over seeds], in %"
CAPTIONS = {
    "main": f"Main table: one row per method (its label), Avg@n and Pass@k per benchmark; {CELLS}.",
    "main_by_level": f"The main table's Avg@n per difficulty level of each benchmark; {CELLS}.",
    "main_summary": "Every metric of the main table's methods, per benchmark and level: mean, std, seeds and 95% "
                    "t-interval over seeds (fractions, not %); metrics named flexible... score by the flexible reading.",
    "comparisons": "Every method against the reference method, per benchmark and metric: paired difference with its "
                   "95% interval and verdict, the unpaired interval, the minimum detectable difference (mdd) and the "
                   "seeds needed to detect statistics.detect points.",
    "passk": "Unbiased pass@k for every k from 1 to n per method: mean, std, min and max over seeds (%).",
    "efficiency": "IntroLLM Table 3 measured here: head parameters, FLOPs per token, throughput by context length.",
    "claims": "The paper's qualitative claims checked on these results: holds, fails or inconclusive, with the evidence.",
}
PAPER = "The paper's table {table} rebuilt in its layout from our cells."
DIFF = ("Our cells against the paper's table {table}: its value, ours, the difference and our 95% noise interval "
        "(seeds and problems); whether the paper's value lies inside it.")
STYLE = ("body{font-family:sans-serif;font-size:14px}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}tr:nth-child(even){background:#f6f6f6}")


SMOOTHED = ("each seed's curve smoothed by a centred moving average over a tenth of the steps (the y axis gives "
            "the window); the line is the mean over seeds, the band spans the seeds' minimum to maximum")
FIGURE_CAPTIONS = {  # by file stem of harness.figures' PNGs
    "reward": f"Training reward (mean over the rollouts) per GRPO step, by method: {SMOOTHED}.",
    "entropy": f"Policy entropy of the sampled tokens per GRPO step, by method: {SMOOTHED}.",
    "response_length": f"Mean response length (tokens) per GRPO step, by method: {SMOOTHED}.",
    "temperature": f"Mean sampling temperature of the rollouts per GRPO step, by method: {SMOOTHED}.",
    "tampo_temperature": "TAMPO: the batch temperature sampled at each step, per seed, and (right) the meta-policy's "
                         "probability of each candidate temperature over training (one seed).",
    "t_star_by_advantage": "TAMPO: share of trajectories whose likelihood-optimal temperature T* is each candidate, "
                           "positive- against negative-advantage trajectories, all steps and seeds pooled.",
    "likelihood_curves": "TAMPO: log-likelihood of each trajectory of one group against the candidate temperature, "
                         "coloured by advantage sign; dots mark each curve's maximum (T*).",
    "token_temperatures": "Sampling temperature at each token of the longest evaluated responses that vary it.",
    "temperature_by_level": "Mean response temperature in evaluation per difficulty level; bars: 95% bootstrap "
                            "interval over problems. Drawn only when some method's temperature varies.",
}


def figure_captions(benchmarks: Iterable[str]) -> dict[str, str]:
    """What each figure shows and what its band is, by file stem (passk_{benchmark} per benchmark)."""
    passk = ("{b}: unbiased pass@k against k per method; the line is the mean over seeds, the band spans the "
             "seeds' minimum to maximum.")
    return FIGURE_CAPTIONS | {f"passk_{b}": passk.format(b=b) for b in benchmarks}


def caption(name: str) -> str:
    """What the table `name` holds: a fixed table's caption, else a paper table's (diff_{table}: its diff)."""
    if name in CAPTIONS:
        return CAPTIONS[name]
    table = name.removeprefix("diff_")
    return (DIFF if name.startswith("diff_") else PAPER).format(table=table)


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_json(path) if Path(path).suffix == ".json" else pd.read_csv(path)


def write_page(name: str, source: Path, out: Path) -> None:
    """`source` as an HTML page: the table's name, its caption and the table."""
    body = read_table(source).to_html(index=False, na_rep="", border=0)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title>"
            f"<style>{STYLE}</style></head><body><h2>{html.escape(name)}</h2><p>{html.escape(caption(name))}</p>"
            f"{body}</body></html>\n")
    with atomic_path(out) as tmp:
        tmp.write_text(page)
