"""Figures from training logs and evaluation generations: training curves per method, TAMPO's
meta-policy and likelihood-optimal temperatures, per-token temperatures, temperature by level,
and pass@k against k per benchmark.

Methods appear by their labels (`labels`: the config's `label`s), each with one colour and line
style in every figure, and legends sit outside the plot. Training curves are smoothed by a
centred moving average over a tenth of the steps, with a band between the seeds' minimum and
maximum; with 7 or more methods they are drawn as small multiples, one panel per family.

Every function reads only what it is given and draws nothing random (the bootstrap has a fixed
seed), so a figure is a function of its inputs. A figure whose data is absent is skipped by
`make_figures`; the drawing functions raise ValueError when handed no data to draw.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")  # headless: figures are drawn in jobs without a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from harness.io import atomic_path, read_jsonl  # noqa: E402

# TampoParams' default candidates, repeated here so that drawing figures does not import torch
CANDIDATES: tuple[float, ...] = tuple(round(0.6 + 0.1 * k, 1) for k in range(10))
CURVES: dict[str, tuple[str, str]] = {
    "reward": ("reward.png", "Training reward"),
    "entropy": ("entropy.png", "Policy entropy"),
    "response_length": ("response_length.png", "Response length"),
    "temperature_mean": ("temperature.png", "Mean sampling temperature"),
}
T_STAR = ("temp/t_star_pos_hist", "temp/t_star_neg_hist")
GROUP = ("temp/group_likelihoods", "temp/group_advantages")  # newer TAMPO logs only
FAMILIES = {"fixed": "fixed temperature", "linear": "scheduled temperature", "spike": "scheduled temperature"}
ADAPTIVE = "adaptive or multi-temperature"  # every other controller's family
LINE_STYLES = ("-", "--", ":", "-.")
SIGN_COLORS = {"positive": "tab:green", "negative": "tab:red", "zero": "tab:grey"}
N_BOOTSTRAP = 1000


def load_runs(train_logs: dict[tuple[str, int], Path]) -> pd.DataFrame:
    """One row per (method, seed, step) with every logged key; list-valued keys stay lists.
    Missing logs are skipped, and keys absent from a log are NaN in its rows."""
    rows = [
        {"method": method, "seed": seed, **row}
        for (method, seed), path in train_logs.items()
        if Path(path).exists()
        for row in read_jsonl(path)
    ]
    if not rows:
        return pd.DataFrame(columns=["method", "seed", "step"])
    return pd.DataFrame(rows).sort_values(["method", "seed", "step"], kind="stable").reset_index(drop=True)


def _save(fig: Figure, out: Path) -> None:
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")  # tight: keeps a legend outside the axes
    plt.close(fig)


def _styles(methods: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Colour and line style per method, by sorted name, so a method looks the same in every
    figure: ten distinct colours (tab10), then the same colours dashed, dotted, dash-dotted."""
    cmap = plt.get_cmap("tab10")
    return {m: {"color": cmap(i % 10), "ls": LINE_STYLES[i // 10 % len(LINE_STYLES)]}
            for i, m in enumerate(sorted(set(methods)))}


def _legend_outside(fig: Figure, note: str | None = None) -> None:
    """One legend for every axis of the figure, right of the plots, with `note` (what the band
    is) as its title."""
    entries = {label: handle for ax in fig.axes for handle, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(entries.values(), entries.keys(), loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small",
               title=note, title_fontsize="small", frameon=False)


def _panels(methods: Iterable[str], families: Mapping[str, str]) -> dict[str, list[str]]:
    """Methods by family (fixed, scheduled, then adaptive), one panel each when there are 7 or
    more methods and several families; else one panel of all."""
    methods = sorted(set(methods))
    order = [*dict.fromkeys(FAMILIES.values()), ADAPTIVE]
    groups: dict[str, list[str]] = {}
    for method in sorted(methods, key=lambda m: order.index(families[m]) if families.get(m) in order else len(order)):
        groups.setdefault(families.get(method, ""), []).append(method)
    return groups if len(groups) > 1 and len(methods) > 6 else {"": methods}


def family(controller: str) -> str:
    """The panel a method's training curves go in, by its temperature controller."""
    return FAMILIES.get(controller, ADAPTIVE)


def smoothing_window(steps: int) -> int:
    """Steps in the centred moving average of a training curve: a tenth of the run, at least 1."""
    return max(1, steps // 10)


def _logged(value: Any) -> bool:
    """Whether a log cell holds data: a non-empty list or a number (older logs leave NaN)."""
    return len(value) > 0 if isinstance(value, list) else value is not None and not pd.isna(value)


def _logged_rows(runs: pd.DataFrame, *columns: str) -> tuple[str, pd.DataFrame] | None:
    """The plotted method and its rows that logged every column, chosen by what the logs hold and
    not by name: the method with the most such rows (a method over 3 seeds before its 1-seed
    ablations), the first by name among equals; None when no run did."""
    if not set(columns) <= set(runs.columns):
        return None
    rows = runs[pd.concat([runs[c].map(_logged) for c in columns], axis=1).all(axis=1)]
    if rows.empty:
        return None
    counts = rows["method"].value_counts()
    method = min(counts.index, key=lambda m: (-counts[m], m))
    return method, rows[rows["method"] == method]


def _require_rows(runs: pd.DataFrame, *columns: str) -> tuple[str, pd.DataFrame]:
    found = _logged_rows(runs, *columns)
    if found is None:
        raise ValueError(f"no run logged {', '.join(columns)}")
    return found


def _first_seed(rows: pd.DataFrame) -> int:
    seeds = sorted(rows["seed"].unique())
    return 0 if 0 in seeds else seeds[0]


def _candidate_axis(k: int, candidates: Sequence[float]) -> tuple[np.ndarray, str]:
    """Candidate temperatures as x values, or their indices when the log's K does not match."""
    if len(candidates) == k:
        return np.asarray(candidates, dtype=float), "candidate temperature T"
    return np.arange(k, dtype=float), "candidate index"


def training_curves(runs: pd.DataFrame, metric: str, out: Path, title: str, labels: Mapping[str, str] | None = None,
                    families: Mapping[str, str] | None = None) -> None:
    """Per method: each seed's curve smoothed (`smoothing_window`), their mean over seeds, and a
    band between their min and max; one panel per method family (`_panels`)."""
    if metric not in runs.columns or runs[metric].isna().all():
        raise ValueError(f"no run logged {metric!r}")
    data = runs[["method", "seed", "step"]].assign(value=pd.to_numeric(runs[metric], errors="coerce")).dropna()
    window = smoothing_window(data["step"].nunique())
    data["value"] = data.groupby(["method", "seed"])["value"].transform(
        lambda v: v.rolling(window, min_periods=1, center=True).mean())
    styles, panels = _styles(data["method"]), _panels(data["method"], families or {})
    fig, axes = plt.subplots(1, len(panels), figsize=(1.5 + 4.5 * len(panels), 4.5), sharey=True, squeeze=False)
    for ax, (family, methods) in zip(axes[0], panels.items(), strict=True):
        for method in methods:
            stats = data[data["method"] == method].groupby("step")["value"].agg(["mean", "min", "max"])
            ax.plot(stats.index, stats["mean"], label=(labels or {}).get(method, method), lw=1.5, **styles[method])
            ax.fill_between(stats.index, stats["min"], stats["max"], color=styles[method]["color"], alpha=0.15, lw=0)
        ax.set(xlabel="GRPO step", title=family)
    smoothed = f"moving average over {window} steps" if window > 1 else "per step"
    axes[0, 0].set_ylabel(f"{metric.replace('_', ' ')} ({smoothed})")
    fig.suptitle(f"{title}: mean over seeds")
    _legend_outside(fig, f"band: min to max over\n{data['seed'].nunique()} seeds")
    fig.tight_layout()
    _save(fig, out)


def passk_curves(curves: pd.DataFrame, out: Path, title: str, labels: Mapping[str, str] | None = None) -> None:
    """Unbiased pass@k against k (harness.passk.passk_curves rows of one benchmark): the mean
    over seeds per method, shaded between the seeds' min and max."""
    if curves.empty:
        raise ValueError("no pass@k curves to draw")
    styles = _styles(curves["method"])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, rows in curves.groupby("method", sort=True):
        stats = rows.groupby("k")["value"].agg(["mean", "min", "max"])
        ax.plot(stats.index, stats["mean"], label=(labels or {}).get(method, method), lw=1.5, marker=".", **styles[method])
        ax.fill_between(stats.index, stats["min"], stats["max"], color=styles[method]["color"], alpha=0.15, lw=0)
    ax.set(xlabel="k", ylabel="pass@k, % (unbiased, mean over seeds)", title=title)
    ax.set_xscale("log", base=2)
    n = int(curves["k"].max())
    ticks = sorted({2**i for i in range(n.bit_length()) if 2**i <= n} | {n})  # 1, 2, 4, ..., n
    ax.set_xticks(ticks, [str(k) for k in ticks])
    _legend_outside(fig, "band: min to max over seeds")
    fig.tight_layout()
    _save(fig, out)


def tampo_temperature(runs: pd.DataFrame, out: Path, candidates: Sequence[float] = CANDIDATES) -> None:
    """Sampled batch temperature per step (one line per seed) and, where logged, the meta-policy
    pi over candidates per step (heatmap) of seed 0 or the first seed that logged it."""
    method, rows = _require_rows(runs, "temp/sampled")
    found = _logged_rows(runs[runs["method"] == method], "temp/pi")
    with_pi = rows.iloc[:0] if found is None else found[1]
    fig, axes = plt.subplots(1, 2 if len(with_pi) else 1, figsize=(12 if len(with_pi) else 6.5, 4.5), squeeze=False)
    ax = axes[0, 0]
    for seed, seed_rows in rows.groupby("seed", sort=True):
        ax.plot(seed_rows["step"], seed_rows["temp/sampled"], label=f"seed {seed}", lw=1, marker=".", ms=3)
    ax.set(xlabel="GRPO step", ylabel="sampled temperature", title=f"{method}: sampled temperature")
    ax.legend(fontsize="small")
    if len(with_pi):
        seed = _first_seed(with_pi)
        pis = with_pi[with_pi["seed"] == seed]
        matrix = np.array(pis["temp/pi"].tolist(), dtype=float)
        temps, label = _candidate_axis(matrix.shape[1], candidates)
        mesh = axes[0, 1].pcolormesh(pis["step"], temps, matrix.T, shading="nearest", cmap="viridis")
        fig.colorbar(mesh, ax=axes[0, 1], label="meta-policy probability π(T)")
        axes[0, 1].set(xlabel="GRPO step", ylabel=label, title=f"{method}: meta-policy π (seed {seed})")
    fig.tight_layout()
    _save(fig, out)


def t_star_by_advantage(runs: pd.DataFrame, out: Path, candidates: Sequence[float] = CANDIDATES) -> None:
    """Normalised histograms of the likelihood-optimal temperature T*, pooled over steps and
    seeds, of positive- against negative-advantage trajectories."""
    method, both = _require_rows(runs, *T_STAR)
    pos = np.sum(both["temp/t_star_pos_hist"].tolist(), axis=0, dtype=float)
    neg = np.sum(both["temp/t_star_neg_hist"].tolist(), axis=0, dtype=float)
    temps, label = _candidate_axis(len(pos), candidates)
    x = np.arange(len(pos))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for counts, offset, sign in ((pos, -0.2, "positive"), (neg, 0.2, "negative")):
        share = counts / counts.sum() if counts.sum() else counts
        ax.bar(x + offset, share, width=0.4, color=SIGN_COLORS[sign], label=f"{sign} advantage (n = {int(counts.sum())})")
    ax.set_xticks(x, [f"{t:g}" for t in temps])
    ax.set(xlabel=f"likelihood-optimal {label}", ylabel="fraction of trajectories",
           title=f"{method}: T* by advantage sign (all steps and seeds)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    _save(fig, out)


def _advantage_sign(advantage: float) -> str:
    return "positive" if advantage > 0 else "negative" if advantage < 0 else "zero"


def likelihood_curves(runs: pd.DataFrame, out: Path, candidates: Sequence[float] = CANDIDATES) -> None:
    """Likelihood vs candidate temperature of each trajectory of the last logged group with
    advantages of both signs (else the last group), seed 0 or the first seed that logged one,
    coloured by advantage sign, with a marker at each argmax."""
    method, logged = _require_rows(runs, *GROUP)
    seed = _first_seed(logged)
    rows = logged[logged["seed"] == seed]
    mixed = rows[[min(a) < 0 < max(a) for a in rows["temp/group_advantages"]]]
    last = (mixed if len(mixed) else rows).iloc[-1]
    ell, advantages = np.array(last["temp/group_likelihoods"], dtype=float), last["temp/group_advantages"]
    temps, label = _candidate_axis(ell.shape[1], candidates)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for curve, advantage in zip(ell, advantages, strict=True):
        color = SIGN_COLORS[_advantage_sign(advantage)]
        ax.plot(temps, curve, color=color, lw=1, alpha=0.8)
        ax.plot(temps[curve.argmax()], curve.max(), marker="o", color=color, ms=6)
    signs = sorted({_advantage_sign(a) for a in advantages}, key=list(SIGN_COLORS).index)
    # one legend entry per sign present, not one per trajectory
    ax.legend([Line2D([], [], color=SIGN_COLORS[s], marker="o") for s in signs], [f"{s} advantage" for s in signs],
              fontsize="small")
    ax.set(xlabel=label, ylabel="log-likelihood of the trajectory",
           title=f"{method}: likelihood vs temperature, step {int(last['step'])} (seed {seed})")
    fig.tight_layout()
    _save(fig, out)


class Generations(NamedTuple):
    """What the figures need from one method's generations, gathered in one streaming pass: its
    files can be large (a list of per-token temperatures per response), so they are never held whole."""

    levels: pd.DataFrame  # level, problem, temperature: mean response temperature per problem
    longest: list[dict]  # the longest responses that logged per-token temperatures, longest first


def _level(value: Any) -> int | None:
    """Difficulty level as an int: 3 and MATH's "Level 3" alike; None when absent or unparseable."""
    if value is None:
        return None
    try:
        return int(str(value).removeprefix("Level "))
    except ValueError:
        return None


def _rows(path: Path) -> Iterator[dict]:
    with Path(path).open() as f:
        yield from (json.loads(line) for line in f if line.strip())


def summarise_generations(paths: Iterable[Path], n_responses: int = 3) -> Generations:
    """One pass over a method's generations files (missing ones skipped). A problem's samples are
    correlated, so temperatures are averaged per problem, the unit the bootstrap resamples; problems
    are keyed by file too, since ids repeat across benchmarks."""
    records: list[tuple[int | None, str, Any]] = []
    heap: list[tuple[int, int, dict]] = []  # (length, -order, row): ties keep the earlier response
    order = 0
    for path in (Path(p) for p in paths if Path(p).exists()):
        for row in _rows(path):
            records.append((_level(row.get("level")), f"{path}:{row.get('id')}", row.get("temperature_mean")))
            if row.get("temperatures"):
                item = (len(row["temperatures"]), -order, row)
                (heapq.heappush if len(heap) < n_responses else heapq.heappushpop)(heap, item)
                order += 1
    frame = pd.DataFrame(records, columns=["level", "problem", "temperature"])
    frame["temperature"] = pd.to_numeric(frame["temperature"], errors="coerce")
    levels = frame.dropna().groupby(["level", "problem"])["temperature"].mean().reset_index()
    return Generations(levels, [row for _, _, row in sorted(heap, key=lambda item: item[:2], reverse=True)])


def _draw_token_temperatures(responses: dict[str, list[dict]], out: Path) -> None:
    """One panel per method: the temperature at each token of its responses."""
    responses = {m: r for m, r in responses.items() if r}
    if not responses:
        raise ValueError("no response logged per-token temperatures")
    fig, axes = plt.subplots(len(responses), 1, figsize=(8, 1 + 3.5 * len(responses)), sharex=True, squeeze=False)
    for ax, (method, rows) in zip(axes[:, 0], responses.items()):
        for r in rows:
            verdict = "correct" if r.get("correct") else "wrong"
            ax.plot(r["temperatures"], lw=1, label=f"{r.get('id')} sample {r.get('sample')} ({verdict})")
        ax.set(ylabel="temperature", title=f"{method}: per-token sampling temperature")
        ax.legend(fontsize="small")
    axes[-1, 0].set(xlabel="token position")
    fig.tight_layout()
    _save(fig, out)


def token_temperatures(generations: dict[str, list[Path]], out: Path, n_responses: int = 3) -> None:
    """Per method, the temperature at each token of the `n_responses` longest responses that
    logged one per token (ties in file order)."""
    _draw_token_temperatures({m: summarise_generations(p, n_responses).longest for m, p in generations.items()}, out)


def _bootstrap_ci(values: np.ndarray) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean, with a fixed seed for reproducible figures."""
    means = values[np.random.default_rng(0).integers(0, len(values), (N_BOOTSTRAP, len(values)))].mean(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def _levels_vary(levels: Mapping[str, pd.DataFrame]) -> bool:
    """Whether any method's response temperature varies over problems: when none does (every
    method evaluated at a fixed temperature), a figure by level would only draw flat lines."""
    return any(np.ptp(frame["temperature"].to_numpy()) > 1e-6 for frame in levels.values() if not frame.empty)


def _draw_temperature_by_level(levels: dict[str, pd.DataFrame], out: Path, labels: Mapping[str, str] | None = None) -> None:
    frames = {m: levels[m] for m in sorted(levels) if not levels[m].empty}
    if not frames:
        raise ValueError("no generations with a level and a temperature")
    if not _levels_vary(frames):
        raise ValueError("every method's response temperature is constant: nothing varies by level")
    styles = _styles(levels)
    step = min(0.05, 0.4 / len(frames))  # dodge so overlapping series stay readable, within +-0.2 of the level
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (method, frame) in enumerate(frames.items()):
        by_level = {lv: g.to_numpy() for lv, g in frame.groupby("level", sort=True)["temperature"]}
        means = np.array([v.mean() for v in by_level.values()])
        cis = np.array([_bootstrap_ci(v) for v in by_level.values()])
        # clip: rounding can put the mean a hair outside its interval, and matplotlib rejects negative bars
        yerr = np.clip([means - cis[:, 0], cis[:, 1] - means], 0, None)
        x = np.array(list(by_level), dtype=float) + (i - (len(frames) - 1) / 2) * step
        ax.errorbar(x, means, yerr=yerr, label=(labels or {}).get(method, method), marker="o", capsize=3, lw=1.5,
                    **styles[method])
    ax.set_xticks(sorted({int(lv) for f in frames.values() for lv in f["level"].unique()}))
    ax.set(xlabel="difficulty level", ylabel="mean response temperature (95% bootstrap CI)",
           title="Temperature by difficulty level")
    _legend_outside(fig, "bars: 95% bootstrap CI\nover problems")
    fig.tight_layout()
    _save(fig, out)


def temperature_by_level(generations: dict[str, list[Path]], out: Path, labels: Mapping[str, str] | None = None) -> None:
    """Mean response temperature per difficulty level, one series per method, with 95% bootstrap
    intervals over problems; ValueError when no method's temperature varies."""
    _draw_temperature_by_level({m: summarise_generations(p).levels for m, p in generations.items()}, out, labels)


def make_figures(train_logs: dict[tuple[str, int], Path], generations: dict[str, list[Path]],
                 out_dir: Path, candidates: Sequence[float] = CANDIDATES, passk: pd.DataFrame | None = None,
                 labels: Mapping[str, str] | None = None, families: Mapping[str, str] | None = None) -> list[Path]:
    """Write every figure the data allows into `out_dir`; return the written paths. `passk`:
    pass@k curves (harness.passk.passk_curves), one figure per benchmark; `labels`: how figures
    name each method; `families`: each method's family (`family`), a panel of the training curves."""
    out_dir = Path(out_dir)
    runs = load_runs(train_logs)
    written: list[Path] = []
    for metric, (name, title) in CURVES.items():
        if metric in runs.columns and runs[metric].notna().any():
            training_curves(runs, metric, out_dir / name, title, labels, families)
            written.append(out_dir / name)
    meta_policy_figures = {
        "tampo_temperature.png": (("temp/sampled",), tampo_temperature),
        "t_star_by_advantage.png": (T_STAR, t_star_by_advantage),
        "likelihood_curves.png": (GROUP, likelihood_curves),
    }
    for name, (columns, draw) in meta_policy_figures.items():
        if _logged_rows(runs, *columns) is not None:
            draw(runs, out_dir / name, candidates)
            written.append(out_dir / name)
    summaries = {m: summarise_generations(paths) for m, paths in generations.items()}
    if any(s.longest for s in summaries.values()):  # every method that varied T within a response
        _draw_token_temperatures({m: s.longest for m, s in summaries.items()}, out_dir / "token_temperatures.png")
        written.append(out_dir / "token_temperatures.png")
    if _levels_vary({m: s.levels for m, s in summaries.items()}):
        _draw_temperature_by_level({m: s.levels for m, s in summaries.items()}, out_dir / "temperature_by_level.png", labels)
        written.append(out_dir / "temperature_by_level.png")
    for benchmark, rows in ([] if passk is None else passk.groupby("benchmark", sort=True)):
        passk_curves(rows, out_dir / f"passk_{benchmark}.png", f"{benchmark}: pass@k by method", labels)
        written.append(out_dir / f"passk_{benchmark}.png")
    return written
