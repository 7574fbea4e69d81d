"""Figures from small synthetic training logs and generations: each writes a PNG, make_figures
writes exactly the figures the data allows, and older logs without the newer keys do not crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from harness import figures
from harness.figures import (
    T_STAR,
    _logged_rows,
    family,
    likelihood_curves,
    load_runs,
    make_figures,
    passk_curves,
    smoothing_window,
    summarise_generations,
    t_star_by_advantage,
    tampo_temperature,
    temperature_by_level,
    token_temperatures,
    training_curves,
)
from harness.io import write_jsonl

K = 10
STEPS = 3
CURVES = ["reward.png", "entropy.png", "response_length.png", "temperature.png"]
TAMPO = ["tampo_temperature.png", "t_star_by_advantage.png", "likelihood_curves.png"]


def base_row(step: int, seed: int, temperature: float) -> dict:
    return {
        "step": step, "reward": 0.1 * step + 0.01 * seed, "accuracy": 0.1 * step, "entropy": 1.0 - 0.1 * step,
        "response_length": 20.0 + step, "temperature_mean": temperature, "temperature_std": 0.0,
        "reward_L1": 0.9, "reward_L2": 0.2,
    }


def tampo_row(step: int, seed: int, newer: bool = True) -> dict:
    """TAMPO's log; `newer=False` drops the keys older logs lack (group curves, levels)."""
    pi = [0.0] * K
    pi[step % K], pi[(step + 1) % K] = 0.75, 0.25
    row = {
        **base_row(step, seed, 0.6 + 0.1 * (step % K)),
        "temp/sampled": 0.6 + 0.1 * (step % K), "temp/pi": pi, "temp/ema_advantage": [0.0] * K,
        "temp/t_star_pos_hist": [3, 1] + [0] * (K - 2), "temp/t_star_neg_hist": [0] * (K - 2) + [1, 2],
        "temp/t_star_pos_mean": 0.62, "temp/t_star_neg_mean": None,
    }
    if not newer:
        return {k: v for k, v in row.items() if not k.startswith("reward_L")}
    return {
        **row,
        "temp/group_likelihoods": [[-1.0 - 0.1 * abs(k - g) for k in range(K)] for g in range(4)],
        "temp/group_advantages": [1.0, -1.0, 0.0, 0.5],
    }


def introllm_row(step: int, seed: int) -> dict:
    return {**base_row(step, seed, 0.9), "temp/p_change": 0.5, "temp/beta_mean": 0.1, "temp/change_rate": 0.4}


def write_logs(root: Path, rows: dict[str, Callable[[int, int], dict]], seeds: tuple[int, ...] = (0, 1)) -> dict[tuple[str, int], Path]:
    """method -> row(step, seed) factory, written for every seed and step under root."""
    logs = {}
    for method, make_row in rows.items():
        for seed in seeds:
            logs[(method, seed)] = root / method / f"seed{seed}" / "model" / "train_metrics.jsonl"
            write_jsonl(logs[(method, seed)], [make_row(step, seed) for step in range(STEPS)])
    return logs


def generation(i: int, level: object, temperatures: list[float] | None = None, **extra: object) -> dict:
    row = {"id": f"test-{i // 2:06d}", "level": level, "sample": i % 2, "response": "1+1=2 \\boxed{2}",
           "answer": "2", "correct": float(i % 3 == 0), "length": 8, "temperature_mean": 0.7 + 0.05 * (i % 4)}
    if temperatures is not None:
        row["temperatures"] = temperatures
    return {**row, **extra}


def write_generations(path: Path, per_token: bool) -> Path:
    rows = [generation(i, 1 + i % 3, [0.6 + 0.01 * t for t in range(5 + i)] if per_token else None) for i in range(12)]
    write_jsonl(path, rows)
    return path


@pytest.fixture
def adaptive(tmp_path: Path) -> tuple[dict[tuple[str, int], Path], dict[str, list[Path]]]:
    """TAMPO and IntroLLM logs, IntroLLM generations with per-token temperatures, levels everywhere."""
    logs = write_logs(tmp_path, {"tampo": tampo_row, "introllm": introllm_row})
    generations = {
        "tampo": [write_generations(tmp_path / "tampo" / "seed0" / "eval" / "arith.generations.jsonl", False)],
        "introllm": [write_generations(tmp_path / "introllm" / "seed0" / "eval" / "arith.generations.jsonl", True)],
    }
    return logs, generations


@pytest.fixture
def fixed(tmp_path: Path) -> tuple[dict[tuple[str, int], Path], dict[str, list[Path]]]:
    """Fixed-temperature runs only: no temp/ keys, no per-token temperatures."""
    logs = write_logs(tmp_path, {"grpo-t0.6": lambda s, seed: base_row(s, seed, 0.6),
                                 "grpo-t1.0": lambda s, seed: base_row(s, seed, 1.0)})
    generations = {m: [write_generations(tmp_path / m / "seed0" / "eval" / "arith.generations.jsonl", False)]
                   for m in ("grpo-t0.6", "grpo-t1.0")}
    return logs, generations


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000


def test_load_runs_by_hand(adaptive: tuple) -> None:
    runs = load_runs(adaptive[0])
    assert len(runs) == 2 * 2 * STEPS
    assert {"method", "seed", "step", "reward", "entropy", "temp/pi", "temp/p_change"} <= set(runs.columns)
    row = runs[(runs["method"] == "tampo") & (runs["seed"] == 1) & (runs["step"] == 2)].iloc[0]
    assert row["reward"] == pytest.approx(0.21) and row["temp/sampled"] == pytest.approx(0.8)
    assert row["temp/pi"][2:4] == [0.75, 0.25]  # list-valued keys stay lists
    assert runs.loc[runs["method"] == "introllm", "temp/sampled"].isna().all()
    assert list(runs["method"].unique()) == ["introllm", "tampo"] and runs["step"].tolist()[:STEPS] == [0, 1, 2]


def test_load_runs_skips_missing_logs(tmp_path: Path) -> None:
    assert load_runs({("tampo", 0): tmp_path / "absent.jsonl"}).empty


def test_each_figure_writes_a_png(adaptive: tuple, tmp_path: Path) -> None:
    logs, generations = adaptive
    runs = load_runs(logs)
    training_curves(runs, "reward", tmp_path / "reward.png", "Reward")
    tampo_temperature(runs, tmp_path / "tampo.png")
    t_star_by_advantage(runs, tmp_path / "tstar.png")
    likelihood_curves(runs, tmp_path / "likelihood.png")
    token_temperatures({"introllm": generations["introllm"]}, tmp_path / "tokens.png")
    temperature_by_level(generations, tmp_path / "levels.png")
    for name in ("reward", "tampo", "tstar", "likelihood", "tokens", "levels"):
        assert_png(tmp_path / f"{name}.png")


def test_make_figures_adaptive(adaptive: tuple, tmp_path: Path) -> None:
    written = make_figures(*adaptive, tmp_path / "figures")
    expected = [*CURVES, *TAMPO, "token_temperatures.png", "temperature_by_level.png"]
    assert sorted(p.name for p in written) == sorted(expected)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(expected)  # no stray temporaries
    for path in written:
        assert_png(path)


def test_make_figures_fixed_temperatures_only(fixed: tuple, tmp_path: Path) -> None:
    written = make_figures(*fixed, tmp_path / "figures")
    assert sorted(p.name for p in written) == sorted([*CURVES, "temperature_by_level.png"])


def test_pass_at_k_curves_one_figure_per_benchmark(fixed: tuple, tmp_path: Path) -> None:
    curves = pd.DataFrame([{"model": "m", "method": m, "seed": s, "benchmark": b, "k": k, "value": 10.0 * k + s}
                           for m in ("grpo-t0.6", "grpo-t1.0") for s in (0, 1) for b in ("arith", "champ")
                           for k in (1, 2, 4, 8)])
    written = make_figures(*fixed, tmp_path / "figures", passk=curves)
    assert {"passk_arith.png", "passk_champ.png"} <= {p.name for p in written}
    assert_png(tmp_path / "figures" / "passk_arith.png")
    with pytest.raises(ValueError, match="no pass@k curves"):
        passk_curves(curves.iloc[:0], tmp_path / "x.png", "empty")


def test_figures_absent_data_raise(fixed: tuple, tmp_path: Path) -> None:
    runs = load_runs(fixed[0])
    for draw in (tampo_temperature, t_star_by_advantage, likelihood_curves):
        with pytest.raises(ValueError):
            draw(runs, tmp_path / "x.png")
    with pytest.raises(ValueError):
        token_temperatures({"grpo-t0.6": fixed[1]["grpo-t0.6"]}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_older_logs_without_newer_keys(tmp_path: Path) -> None:
    """An old TAMPO log (no group curves, no per-level rewards) beside one with no pi at all."""
    logs = write_logs(tmp_path, {"tampo": lambda s, seed: tampo_row(s, seed, newer=False),
                                 "tampo-sum": lambda s, seed: {k: v for k, v in tampo_row(s, seed, False).items()
                                                               if k != "temp/pi"}})
    written = make_figures(logs, {"tampo": [tmp_path / "missing.generations.jsonl"]}, tmp_path / "figures")
    assert sorted(p.name for p in written) == sorted([*CURVES, "tampo_temperature.png", "t_star_by_advantage.png"])
    tampo_temperature(load_runs({k: v for k, v in logs.items() if k[0] == "tampo-sum"}), tmp_path / "no_pi.png")
    assert_png(tmp_path / "no_pi.png")


def test_methods_are_chosen_by_what_they_logged_not_by_name(tmp_path: Path) -> None:
    """A TAMPO run under another name gets the meta-policy figures; among methods that logged the
    same keys the one with the most rows (3 seeds over a 1-seed ablation) is drawn; every method
    with per-token temperatures gets a panel."""
    logs = {**write_logs(tmp_path, {"tampo-a05": tampo_row}, seeds=(0, 1, 2)), **write_logs(tmp_path, {"a-ablation": tampo_row}, seeds=(0,))}
    generations = {m: [write_generations(tmp_path / m / "seed0" / "eval" / "arith.generations.jsonl", True)]
                   for m in ("tampo-a05", "x-head")}
    written = make_figures(logs, generations, tmp_path / "figures")
    assert {*TAMPO, "token_temperatures.png"} <= {p.name for p in written}
    method, rows = _logged_rows(load_runs(logs), *T_STAR)
    assert method == "tampo-a05" and len(rows) == 3 * STEPS


def test_longest_responses_are_picked_deterministically(tmp_path: Path) -> None:
    rows = [generation(0, 1, [0.7] * 4), generation(1, 1, [0.8] * 9), generation(2, 1),
            generation(3, 2, [0.9] * 9), generation(4, 2, [1.0] * 2)]
    path = tmp_path / "g.generations.jsonl"
    write_jsonl(path, rows)
    longest = summarise_generations([path], n_responses=3).longest
    assert [(r["id"], r["sample"]) for r in longest] == [("test-000000", 1), ("test-000001", 1), ("test-000000", 0)]


def test_levels_accept_math_strings_and_skip_null(tmp_path: Path) -> None:
    rows = [generation(0, "Level 2"), generation(1, "Level 2"), generation(2, None), generation(3, "Level ?"),
            generation(4, 3, temperature_mean=None)]
    path = tmp_path / "g.generations.jsonl"
    write_jsonl(path, rows)
    levels = summarise_generations([path]).levels
    # problem test-000000 (samples 0 and 1) averaged: one row per (level, problem)
    assert levels.to_dict("records") == [{"level": 2, "problem": f"{path}:test-000000", "temperature": 0.725}]


def test_figures_are_deterministic(adaptive: tuple, tmp_path: Path) -> None:
    """Byte-identical PNGs from the same inputs: the bootstrap is seeded, ordering is by name."""
    logs, generations = adaptive
    for name in ("a", "b"):
        temperature_by_level(generations, tmp_path / name / "levels.png")
        tampo_temperature(load_runs(logs), tmp_path / name / "tampo.png")
    for name in ("levels.png", "tampo.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_training_curves_missing_metric(adaptive: tuple, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        training_curves(load_runs(adaptive[0]), "not_logged", tmp_path / "x.png", "x")



def test_no_data_no_figures(tmp_path: Path) -> None:
    assert list(load_runs({}).columns) == ["method", "seed", "step"]
    assert make_figures({}, {}, tmp_path / "figures") == []


def test_flat_temperatures_draw_no_figure_by_level(fixed: tuple, tmp_path: Path) -> None:
    """Every method evaluated at one fixed temperature: nothing varies by level, so no figure."""
    path = tmp_path / "flat.generations.jsonl"
    write_jsonl(path, [generation(i, 1 + i % 3, temperature_mean=1.0) for i in range(12)])
    written = make_figures(fixed[0], {"grpo-t0.6": [path], "grpo-t1.0": [path]}, tmp_path / "figures")
    assert "temperature_by_level.png" not in {p.name for p in written}
    with pytest.raises(ValueError, match="nothing varies by level"):
        temperature_by_level({"grpo-t1.0": [path]}, tmp_path / "x.png")


def test_training_curves_are_smoothed_labelled_and_split_by_family(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    controllers = {"grpo-t0.6": "fixed", "grpo-t1.0": "fixed", "grpo-linear": "linear", "spike": "spike",
                   "tampo": "tampo", "introllm": "introllm", "ead": "ead"}
    logs = write_logs(tmp_path, {m: lambda s, seed: base_row(s, seed, 1.0) for m in controllers})
    drawn = []
    monkeypatch.setattr(figures, "_save", lambda fig, out: drawn.append(fig))
    training_curves(load_runs(logs), "reward", tmp_path / "reward.png", "Reward", labels={"tampo": "TAMPO"},
                    families={m: family(c) for m, c in controllers.items()})
    fig = drawn[0]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["fixed temperature", "scheduled temperature", "adaptive or multi-temperature"]
    legend = fig.legends[0]  # one legend, outside the axes, saying what the band is
    assert legend.get_title().get_text() == "band: min to max over\n2 seeds"
    assert [t.get_text() for t in legend.texts] == ["grpo-t0.6", "grpo-t1.0", "grpo-linear", "spike", "ead", "introllm", "TAMPO"]
    assert "moving average" not in fig.axes[0].get_ylabel()  # 3 steps: drawn per step, and says so
    assert fig.axes[0].get_ylabel() == "reward (per step)"
    assert smoothing_window(3) == 1 and smoothing_window(100) == 10


def test_training_curves_average_over_a_tenth_of_the_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = {("grpo-t1.0", 0): tmp_path / "log.jsonl"}
    write_jsonl(logs[("grpo-t1.0", 0)], [{"step": s, "reward": float(s % 2)} for s in range(30)])  # 0, 1, 0, 1, ...
    drawn = []
    monkeypatch.setattr(figures, "_save", lambda fig, out: drawn.append(fig))
    training_curves(load_runs(logs), "reward", tmp_path / "reward.png", "Reward")
    y = drawn[0].axes[0].lines[0].get_ydata()
    assert y[1:-1] == pytest.approx([1 / 3 if s % 2 else 2 / 3 for s in range(1, 29)])  # centred, 3 steps
    assert drawn[0].axes[0].get_ylabel() == "reward (moving average over 3 steps)"
