"""The papers' qualitative claims as named checks on our results: each says holds, fails or
inconclusive, with the evidence, so a reproduction is judged on what the papers conclude and
not only on their numbers.

A comparison of two methods holds when the 95% Welch interval of the difference of their seed
means lies above zero, fails when it lies below, and is inconclusive otherwise (or with fewer
than two seeds each). Distribution claims use the test named in their evidence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harness.config import ExperimentConfig
from harness.io import atomic_path, read_jsonl
from harness.paper import AVERAGE, table_frame
from harness.temperature.tampo import TampoParams

Verdict = str  # "holds" | "fails" | "inconclusive"


@dataclass(frozen=True)
class Evidence:
    """What a check reads: per-cell metrics (harness.tables.load_cells), the generations files
    by (model, method, seed, benchmark), and the training metrics logs by (model, method, seed)."""

    cells: pd.DataFrame
    generations: dict[tuple[str, str, int, str], Path]
    train_logs: dict[tuple[str, str, int], Path]


@dataclass(frozen=True)
class Claim:
    name: str
    paper: str
    statement: str
    check: Callable[[ExperimentConfig, Evidence], tuple[Verdict, str]]


def compare(a: list[float], b: list[float]) -> tuple[Verdict, str]:
    """Is mean(a) > mean(b)? Welch 95% interval of the difference of seed means."""
    if len(a) < 2 or len(b) < 2:
        return "inconclusive", f"{np.mean(a):.1f} vs {np.mean(b):.1f}: needs 2 or more seeds each"
    diff = np.mean(a) - np.mean(b)
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    se = np.sqrt(va + vb)
    if se == 0:
        verdict = "holds" if diff > 0 else "fails" if diff < 0 else "inconclusive"
        return verdict, f"{np.mean(a):.1f} vs {np.mean(b):.1f} (no seed variance)"
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))  # Welch-Satterthwaite
    half = stats.t.ppf(0.975, dof) * se
    lo, hi = diff - half, diff + half
    verdict = "holds" if lo > 0 else "fails" if hi < 0 else "inconclusive"
    return verdict, f"{np.mean(a):.1f} vs {np.mean(b):.1f}, difference {diff:+.1f} [95% CI {lo:+.1f}, {hi:+.1f}]"


def average_by_method(cfg: ExperimentConfig, ev: Evidence, table: str, metric: str) -> dict[str, list[float]]:
    """Per-seed values of the table's Average column for `metric`, by our method name."""
    frame = table_frame(cfg, ev.cells, table)
    frame = frame[(frame["benchmark"] == AVERAGE) & (frame["metric"] == metric)]
    return {row["method"]: row["values"] for _, row in frame.iterrows() if row["values"]}


def tampo_beats_best_fixed(cfg: ExperimentConfig, ev: Evidence) -> tuple[Verdict, str]:
    values = average_by_method(cfg, ev, "table1", "pass@1")
    fixed = {m: v for m, v in values.items() if m.startswith("grpo-t") and m != "grpo-linear"}
    if "tampo" not in values or not fixed:
        return "inconclusive", "needs TAMPO and fixed-temperature GRPO in Table 1"
    best = max(fixed, key=lambda m: np.mean(fixed[m]))
    verdict, text = compare(values["tampo"], fixed[best])
    return verdict, f"Average Pass@1, TAMPO vs the best fixed temperature ({best}): {text}"


def introllm_beats_tampo_and_ead(cfg: ExperimentConfig, ev: Evidence) -> tuple[Verdict, str]:
    values = average_by_method(cfg, ev, "table1", "avg@8")
    ours = {paper: cfg.reproduces.methods.get(paper, paper) for paper in ("introllm", "tampo-introllm", "ead")}
    if any(m not in values for m in ours.values()):
        return "inconclusive", f"needs {sorted(ours.values())} in Table 1"
    results = [(rival, *compare(values[ours["introllm"]], values[ours[rival]])) for rival in ("tampo-introllm", "ead")]
    verdicts = {v for _, v, _ in results}
    verdict = "fails" if "fails" in verdicts else "holds" if verdicts == {"holds"} else "inconclusive"
    return verdict, "; ".join(f"Average Avg@8, IntroLLM vs {rival}: {text}" for rival, _, text in results)


def t_star_differs_by_advantage_sign(cfg: ExperimentConfig, ev: Evidence) -> tuple[Verdict, str]:
    """TAMPO App. C: the likelihood-optimal temperatures of positive- and negative-advantage
    trajectories differ. Chi-square test of the pooled T* histograms over steps and seeds."""
    pos = neg = None
    for (_, method, _), log in ev.train_logs.items():
        if method != "tampo" or not log.exists():
            continue
        for row in read_jsonl(log):
            p, n = np.array(row.get("temp/t_star_pos_hist", [])), np.array(row.get("temp/t_star_neg_hist", []))
            if p.size and n.size:
                pos, neg = (p if pos is None else pos + p), (n if neg is None else neg + n)
    if pos is None or pos.sum() == 0 or neg.sum() == 0:
        return "inconclusive", "needs TAMPO training logs with T* histograms"
    keep = (pos + neg) > 0
    chi2, p_value, _, _ = stats.chi2_contingency(np.stack([pos[keep], neg[keep]]))
    spec = {k: v for k, v in cfg.controller_spec("tampo").items() if k != "controller"}
    temps = np.array(TampoParams(**spec).candidates)[keep]
    mean_pos, mean_neg = float(temps @ pos[keep] / pos.sum()), float(temps @ neg[keep] / neg.sum())
    text = (f"mean T* {mean_pos:.3f} (positive, n = {int(pos.sum())}) vs {mean_neg:.3f} (negative, n = {int(neg.sum())}); "
            f"chi-square {chi2:.1f}, p = {p_value:.2g}")
    return ("holds" if p_value < 0.05 else "fails" if min(pos.sum(), neg.sum()) >= 1000 else "inconclusive"), text


def temperature_rises_with_difficulty(cfg: ExperimentConfig, ev: Evidence) -> tuple[Verdict, str]:
    """IntroLLM Fig. 2: the learned temperature is higher on harder problems. Spearman
    correlation of level and a response's mean temperature over IntroLLM's evaluations."""
    levels, temps = [], []
    for (_, method, _, _), path in ev.generations.items():
        if method != "introllm" or not path.exists():
            continue
        for row in read_jsonl(path):
            if row.get("level") is not None:
                levels.append(float(str(row["level"]).removeprefix("Level ")))
                temps.append(row["temperature_mean"])
    if len(set(levels)) < 2 or np.ptp(temps) == 0:
        return "inconclusive", "needs IntroLLM evaluated with its own temperatures on a benchmark with levels"
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
          t_star_differs_by_advantage_sign),
    Claim("introllm-beats-tampo-and-ead", "introllm", "IntroLLM beats TAMPO and EAD on the average (Table 1)",
          introllm_beats_tampo_and_ead),
    Claim("temperature-rises-with-difficulty", "introllm",
          "IntroLLM's learned temperature rises with problem difficulty (Fig. 2)", temperature_rises_with_difficulty),
]


def check_claims(cfg: ExperimentConfig, ev: Evidence) -> list[dict]:
    """Every claim of the experiment's paper, checked."""
    out = []
    for claim in CLAIMS:  # a claim whose methods the experiment lacks says so as inconclusive
        if claim.paper == cfg.reproduces.paper:
            verdict, evidence = claim.check(cfg, ev)
            out.append({"claim": claim.name, "paper": claim.paper, "statement": claim.statement,
                        "verdict": verdict, "evidence": evidence})
    return out


def claims_for(cfg: ExperimentConfig, eval_paths: list[Path], model_dirs: list[Path], out: Path) -> list[dict]:
    """Check the claims from evaluated cells and trained models (their train_metrics.jsonl)."""
    from harness.paper import generation_paths
    from harness.tables import load_cells

    logs = {}
    for model_dir in map(Path, model_dirs):
        run = json.loads((model_dir / "run.json").read_text())
        seed_dir = model_dir.parent  # .../{model}/{method}/seed{seed}/model
        logs[(seed_dir.parent.parent.name, seed_dir.parent.name, run["seed"])] = model_dir / "train_metrics.jsonl"
    results = check_claims(cfg, Evidence(load_cells(eval_paths), generation_paths(eval_paths), logs))
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
