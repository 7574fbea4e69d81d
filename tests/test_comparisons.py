"""comparisons.{md,csv} and passk.{md,csv} from synthetic cells: the reference rule, the paired
numbers against the estimator on the same matrices, and pass@k for every k by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.compare import Panel, compare
from harness.comparisons import comparisons_frame, reference_method, sizing, write_statistics
from harness.config import ConfigError, load_config
from harness.outcomes import generation_paths
from harness.passk import aggregate, passk_curves
from tests.cells import write_cell

FIXED = {"grpo-t0.6": {"controller": "fixed", "temperature": 0.6}, "grpo-t1.0": {"controller": "fixed", "temperature": 1.0}}


def config(methods=None, **statistics):
    return load_config({
        "name": "c", "seeds": [0, 1, 2], "models": {"m": {"tiny": {}}},
        "methods": methods or {**FIXED, "tampo": {"controller": "tampo"}},
        "eval": {"benchmarks": ["arith"], "n_samples": 4, "ks": [1, 4]}, "statistics": statistics,
    })


def correct_by_method(t06_like_t10: bool = False) -> dict[str, dict[int, np.ndarray]]:
    """(8 problems, 4 samples) per seed: GRPO T = 1.0 at random; T = 0.6 loses sample 0 (or is
    the same); TAMPO wins sample 3; the base loses samples 0 and 1."""
    out: dict[str, dict[int, np.ndarray]] = {m: {} for m in ("base", "grpo-t0.6", "grpo-t1.0", "tampo")}
    for seed in (0, 1, 2):
        t10 = np.random.default_rng(seed).integers(0, 2, size=(8, 4))
        out["grpo-t1.0"][seed] = t10
        out["grpo-t0.6"][seed] = t10.copy() if t06_like_t10 else np.where(np.arange(4) == 0, 0, t10)
        out["tampo"][seed] = np.where(np.arange(4) == 3, 1, t10)
        out["base"][seed] = np.where(np.arange(4) < 2, 0, t10)
    return out


def write_cells(tmp_path, correct):
    return [write_cell(tmp_path, m, s, c) for m, by_seed in correct.items() for s, c in by_seed.items()]


def matrix_panel(by_seed: dict[int, np.ndarray]) -> Panel:
    samples = 100.0 * np.stack([by_seed[s] for s in (0, 1, 2)]).astype(float)
    return Panel((0, 1, 2), tuple(f"arith/q{i}" for i in range(8)), samples.mean(axis=2), np.full(8, 1 / 8),
                 np.zeros(8, dtype=int), samples)


def test_the_reference_is_the_best_fixed_temperature_ties_to_the_earlier_row(tmp_path):
    correct = correct_by_method()
    generations = generation_paths(write_cells(tmp_path, correct))
    assert reference_method(config(), generations, "m") == "grpo-t1.0"  # TAMPO is higher but not fixed
    assert reference_method(config(reference="tampo"), generations, "m") == "tampo"
    tied = generation_paths(write_cells(tmp_path / "tie", correct_by_method(t06_like_t10=True)))
    assert reference_method(config(), tied, "m") == "grpo-t0.6"


def test_reference_must_be_a_main_table_row_and_must_exist():
    with pytest.raises(ConfigError, match=r"statistics.reference: 'nope' is not a row of the main table; allowed: \['base'"):
        config(reference="nope")
    with pytest.raises(ValueError, match="statistics.reference: the main table .* has no fixed-temperature method"):
        reference_method(config(methods={"tampo": {"controller": "tampo"}}), {}, "m")


def test_comparisons_pair_the_files_as_the_estimator_pairs_the_matrices(tmp_path):
    correct = correct_by_method()
    frame = comparisons_frame(config(), generation_paths(write_cells(tmp_path, correct)))
    assert frame["method"].unique().tolist() == ["base", "grpo-t0.6", "tampo"]
    assert frame["metric"].unique().tolist() == ["avg@4", "pass@4"]
    row = frame[(frame["method"] == "tampo") & (frame["metric"] == "avg@4")].iloc[0]
    gained = np.mean([1 - correct["grpo-t1.0"][s][:, 3] for s in (0, 1, 2)])  # share of sample 3 that was wrong
    assert row["difference"] == pytest.approx(25.0 * gained) and row["reference"] == "grpo-t1.0"
    expected = compare(matrix_panel(correct["tampo"]), matrix_panel(correct["grpo-t1.0"]))
    assert (row["ci_low"], row["ci_high"], row["verdict"]) == pytest.approx((expected.low, expected.high, expected.verdict))
    assert (row["mdd"], row["seeds_needed"], row["width_ratio"]) == pytest.approx(
        (expected.mdd, expected.seeds_needed, expected.width_ratio))
    assert row["seeds"] == 3 and row["problems"] == 8 and row["samples"] == 4 and row["verdict"] == "better"
    worse = frame[(frame["method"] == "base") & (frame["metric"] == "avg@4")].iloc[0]
    assert worse["verdict"] == "worse" and worse["difference"] < 0


def test_write_statistics_round_trip(tmp_path):
    paths = write_cells(tmp_path, correct_by_method())
    write_statistics(config(), paths, tmp_path / "tables")
    csv = pd.read_csv(tmp_path / "tables" / "comparisons.csv")
    assert len(csv) == 6 and {"var_seed", "var_problem", "var_within", "var_sample", "mdd", "seeds_needed"} <= set(csv.columns)
    md = (tmp_path / "tables" / "comparisons.md").read_text()
    assert "every method against the reference (m: grpo-t1.0)" in md and "| tampo" in md and "better" in md
    passk = pd.read_csv(tmp_path / "tables" / "passk.csv")
    assert sorted(passk["k"].unique()) == [1, 2, 3, 4] and (passk["seeds"] == 3).all()
    assert "| method    | Pass@1" in (tmp_path / "tables" / "passk.md").read_text()


def test_pass_at_k_for_every_k_by_hand(tmp_path):
    # c = 0, 1, 2, 4 of 4: pass@1 = mean(c / 4); pass@2 = mean(1 - C(4 - c, 2) / 6);
    # pass@3 = mean(1 - C(4 - c, 3) / 4); pass@4 = the share with c > 0
    path = write_cell(tmp_path, "a", 0, [[0, 0, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1], [1, 1, 1, 1]])
    other = write_cell(tmp_path, "a", 1, [[1, 1, 1, 1]] * 4)
    curves = passk_curves(generation_paths([path, other]))
    seed0 = curves[curves["seed"] == 0].set_index("k")["value"]
    assert seed0.tolist() == pytest.approx([43.75, 100 * (0 + 0.5 + 5 / 6 + 1) / 4, 100 * (0 + 0.75 + 1 + 1) / 4, 75.0])
    summary = aggregate(curves).set_index("k")
    assert summary.loc[1, "mean"] == pytest.approx((43.75 + 100) / 2) and summary.loc[1, "seeds"] == 2
    assert summary.loc[4, "min"] == pytest.approx(75.0) and summary.loc[4, "max"] == pytest.approx(100.0)


def test_sizing_from_the_csv_reproduces_the_measured_design_and_scales(tmp_path, monkeypatch, capsys):
    cfg = config()
    tables = tmp_path / "results" / "c" / "tables"
    write_statistics(cfg, write_cells(tmp_path, correct_by_method()), tables)
    frame = pd.read_csv(tables / "comparisons.csv")
    same = sizing(frame, None, 1.0, None, 2.0)
    assert same["mdd"].tolist() == pytest.approx(frame["mdd"].tolist())  # components round-trip through the csv
    assert same["seeds for 2"].fillna(-1).tolist() == frame["seeds_needed"].fillna(-1).tolist()  # -1: unreachable
    more = sizing(frame, 12, 4.0, 16, 2.0)
    assert (more["mdd"] < frame["mdd"]).all() and set(more["problems"]) == {32}
    avg = more["metric"] == "avg@4"  # Pass@k has no per-sample variance to scale with the samples
    assert set(more.loc[avg, "samples"]) == {16} and more.loc[~avg, "samples"].isna().all()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(json.dumps(cfg.model_dump(mode="json")))
    main(["power", "--config", "c.yaml", "--seeds", "12", "--problem-scale", "4", "--samples", "16"])
    assert "| tampo" in capsys.readouterr().out
