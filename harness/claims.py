"""The papers' qualitative claims as named checks on our results, so a reproduction is judged on
what the papers conclude and not only on their numbers.

A claim that compares methods decides through harness.compare: the paired difference on the
paper table's column (seeds x problems), with the verdict `better`, `worse`, `equivalent` or
`undecided`; its evidence gives the paired interval, the unpaired (Welch) interval beside it,
the minimum detectable difference and the seeds that would detect `statistics.detect` points.
A claim over several comparisons (two rivals, or several models) combines their verdicts
(harness.compare.combine). Distribution claims say holds, fails or inconclusive, by the test
named in their evidence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harness.compare import Comparison, Panel, combine, compare
from harness.comparisons import best, fixed_temperature
from harness.config import ExperimentConfig
from harness.io import atomic_path, read_jsonl
from harness.outcomes import generation_paths
from harness.paper import AVERAGE, Column, column_panel, covered_benchmarks, layout, stand_in, table_methods
from harness.paths import model_dir
from harness.reported import load_reported
from harness.temperature.base import validate_method

Verdict = str  # comparisons: harness.compare.Verdict; distributions: "holds" | "fails" | "inconclusive"


@dataclass(frozen=True)
class Evidence:
    """What a check reads: the generations files by (model, method, seed, benchmark), and the
    training metrics logs by (model, method, seed)."""

    generations: dict[tuple[str, str, int, str], Path]
    train_logs: dict[tuple[str, str, int], Path]


@dataclass(frozen=True)
class Claim:
    name: str
    paper: str
    statement: str
    check: Callable[[ExperimentConfig, Evidence], tuple[Verdict, str]]
    trained: tuple[str, ...] = ()  # the paper's methods whose training logs the check reads


def average_panels(cfg: ExperimentConfig, ev: Evidence, table: str, metric: str) -> dict[str, dict[str, Panel]]:
    """Per model, our panels of the table's Average column of `metric` for each of the table's
    methods whose generations are all there."""
    paper = cfg.reproduces.paper
    reported = load_reported(paper)
    _, columns = layout(reported, paper, table)
    column = Column(AVERAGE, metric)
    covered = [stand_in(cfg, b)[0] for b in covered_benchmarks(columns, metric)]
    table_models = set(reported[reported["table"] == table]["model"])
    out: dict[str, dict[str, Panel]] = {}
    for model, paper_model in cfg.reproduces.model_names(cfg).items():
        if paper_model not in table_models:
            continue
        out[model] = {
            method: column_panel(cfg, ev.generations, model, method, column, columns)
            for method in table_methods(cfg, table)
            if all((p := ev.generations.get((model, method, s, b))) is not None and p.exists()
                   for s in cfg.method_seeds(method) for b in covered)
        }
    return out


def comparison_text(what: str, a: Panel, b: Panel, c: Comparison) -> str:
    return f"{what}: {a.per_seed().mean():.1f} vs {b.per_seed().mean():.1f}, {c.text()}"


def tampo_beats_best_fixed(cfg: ExperimentConfig, ev: Evidence) -> tuple[Verdict, str]:
    tampo = cfg.reproduces.method("tampo")
    verdicts, texts = [], []
    for model, panels in average_panels(cfg, ev, "table1", "pass@1").items():
        fixed = fixed_temperature(cfg, [m for m in panels if m != tampo])
        if tampo not in panels or not fixed:
            continue
        rival = best(panels, fixed)
        c = compare(panels[tampo], panels[rival], cfg.statistics.margin, cfg.statistics.detect)
        verdicts.append(c.verdict)
        texts.append(comparison_text(f"{model}, Average Pass@1, TAMPO vs the best fixed temperature ({rival})",
                                     panels[tampo], panels[rival], c))
    if not verdicts:
        return "undecided", f"needs {tampo} and fixed-temperature GRPO in Table 1, with their generations"
    return combine(verdicts), "; ".join(texts)


def introllm_beats_tampo_and_ead(cfg: ExperimentConfig, ev: Evidence) -> tuple[Verdict, str]:
    ours = {paper: cfg.reproduces.method(paper) for paper in ("introllm", "tampo-introllm", "ead")}
    verdicts, texts = [], []
    for model, panels in average_panels(cfg, ev, "table1", "avg@8").items():
        if any(m not in panels for m in ours.values()):
            continue
        for rival in ("tampo-introllm", "ead"):
            a, b = panels[ours["introllm"]], panels[ours[rival]]
            c = compare(a, b, cfg.statistics.margin, cfg.statistics.detect)
            verdicts.append(c.verdict)
            texts.append(comparison_text(f"{model}, Average Avg@8, IntroLLM vs {rival}", a, b, c))
    if not verdicts:
        return "undecided", f"needs {sorted(ours.values())} in Table 1, with their generations"
    return combine(verdicts), "; ".join(texts)


def t_star_differs_by_advantage_sign(cfg: ExperimentConfig, ev: Evidence) -> tuple[Verdict, str]:
    """TAMPO App. C: the likelihood-optimal temperatures of positive- and negative-advantage
    trajectories differ. Chi-square test of the pooled T* histograms over steps and seeds."""
    tampo = cfg.reproduces.method("tampo")
    pos = neg = None
    for (_, method, _), log in ev.train_logs.items():
        if method != tampo or not log.exists():
            continue
        for row in read_jsonl(log):
            p, n = np.array(row.get("temp/t_star_pos_hist", [])), np.array(row.get("temp/t_star_neg_hist", []))
            if p.size and n.size:
                pos, neg = (p if pos is None else pos + p), (n if neg is None else neg + n)
    if pos is None or pos.sum() == 0 or neg.sum() == 0:
        return "inconclusive", f"needs {tampo} training logs with T* histograms"
    keep = (pos + neg) > 0
    chi2, p_value, _, _ = stats.chi2_contingency(np.stack([pos[keep], neg[keep]]))
    temps = np.array(validate_method(cfg.controller_spec(tampo), tampo).candidates)[keep]
    mean_pos, mean_neg = float(temps @ pos[keep] / pos.sum()), float(temps @ neg[keep] / neg.sum())
    text = (f"mean T* {mean_pos:.3f} (positive, n = {int(pos.sum())}) vs {mean_neg:.3f} (negative, n = {int(neg.sum())}); "
            f"chi-square {chi2:.1f}, p = {p_value:.2g}")
    return ("holds" if p_value < 0.05 else "fails" if min(pos.sum(), neg.sum()) >= 1000 else "inconclusive"), text


def temperature_rises_with_difficulty(cfg: ExperimentConfig, ev: Evidence) -> tuple[Verdict, str]:
    """IntroLLM Fig. 2: the learned temperature is higher on harder problems. Spearman
    correlation of level and a response's mean temperature over IntroLLM's evaluations."""
    introllm = cfg.reproduces.method("introllm")
    levels, temps = [], []
    for (_, method, _, _), generations in ev.generations.items():
        if method != introllm or not generations.exists():
            continue
        for row in read_jsonl(generations):
            if row.get("level") is not None:
                levels.append(float(str(row["level"]).removeprefix("Level ")))
                temps.append(row["temperature_mean"])
    if len(set(levels)) < 2 or np.ptp(temps) == 0:
        return "inconclusive", f"needs {introllm} evaluated with its own temperatures on a benchmark with levels"
    rho, p_value = stats.spearmanr(levels, temps)
    by_level = pd.Series(temps).groupby(levels).mean()
    text = (f"Spearman rho {rho:+.3f} (p = {p_value:.2g}, {len(temps)} responses); mean temperature by level: "
            + ", ".join(f"L{lv:g} {t:.3f}" for lv, t in by_level.items()))
    return ("holds" if rho > 0 and p_value < 0.05 else "fails" if rho < 0 and p_value < 0.05 else "inconclusive"), text


CLAIMS = [
    Claim("tampo-beats-best-fixed", "tampo", "TAMPO beats the best fixed-temperature GRPO on the average (Table 1)",
          tampo_beats_best_fixed),
    Claim("t-star-by-advantage-sign", "tampo",
          "Positive- and negative-advantage trajectories have different likelihood-optimal temperatures (App. C)",
          t_star_differs_by_advantage_sign, trained=("tampo",)),
    Claim("introllm-beats-tampo-and-ead", "introllm", "IntroLLM beats TAMPO and EAD on the average (Table 1)",
          introllm_beats_tampo_and_ead),
    Claim("temperature-rises-with-difficulty", "introllm",
          "IntroLLM's learned temperature rises with problem difficulty (Fig. 2)", temperature_rises_with_difficulty),
]


def check_claims(cfg: ExperimentConfig, ev: Evidence) -> list[dict]:
    """Every claim of the experiment's paper, checked."""
    out = []
    for claim in CLAIMS:  # a claim whose methods the experiment lacks says so (undecided or inconclusive)
        if claim.paper == cfg.reproduces.paper:
            verdict, evidence = claim.check(cfg, ev)
            out.append({"claim": claim.name, "paper": claim.paper, "statement": claim.statement,
                        "verdict": verdict, "evidence": evidence})
    return out


def claim_inputs(cfg: ExperimentConfig, exp: str, tables: list[str]) -> dict[str, list[Path]]:
    """What checking the claims on these rebuilt paper tables reads: their evaluated cells, and
    the trained models of our methods standing for the paper's methods whose logs a claim reads.
    The workflow's claims rule and `harness diff` both list their inputs here."""
    methods = list(dict.fromkeys(m for t in tables for m in table_methods(cfg, t)))
    rows = {row for claim in CLAIMS if claim.paper == cfg.reproduces.paper for row in claim.trained}
    trained = [m for m in methods if m in {cfg.reproduces.method(row) for row in rows}]
    return {
        "evals": cfg.eval_files(exp, methods),
        "models": list(dict.fromkeys(model_dir(exp, m, r, s) for m, r, s, _ in cfg.cells(trained))),
    }


def claims_for(cfg: ExperimentConfig, eval_paths: list[Path], model_dirs: list[Path], out: Path) -> list[dict]:
    """Check the claims from evaluated cells and trained models (their train_metrics.jsonl)."""
    logs = {}
    for directory in map(Path, model_dirs):
        run = json.loads((directory / "run.json").read_text())
        seed_dir = directory.parent  # .../{model}/{method}/seed{seed}/model
        logs[(seed_dir.parent.parent.name, seed_dir.parent.name, run["seed"])] = directory / "train_metrics.jsonl"
    results = check_claims(cfg, Evidence(generation_paths(eval_paths), logs))
    write_claims(results, out, f"{cfg.reproduces.paper} claims, checked on {cfg.name}")
    return results


def write_claims(results: list[dict], md_path: Path, title: str) -> None:
    """claims.md (a table) and claims.json next to it."""
    lines = [f"# {title}", "", "| claim | verdict | evidence |", "|---|---|---|"]
    lines += [f"| {r['statement']} (`{r['claim']}`) | **{r['verdict']}** | {r['evidence']} |" for r in results]
    with atomic_path(md_path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    with atomic_path(md_path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(results, indent=1) + "\n")
