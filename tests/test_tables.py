"""Tables from per-cell metric files: the papers' benchmark average, by hand; flexible columns."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.config import load_config
from harness.snapshot import spread_note
from harness.stages import make_tables
from harness.tables import AVERAGE, aggregate, load_cells, wide_table, with_average


def write_cell(tmp_path, method, seed, benchmark, avg8):
    path = tmp_path / f"{method}-{seed}-{benchmark}.json"
    cell = {"model": "m", "method": method, "seed": seed, "benchmark": benchmark, "metrics": {"avg@8": avg8, "problems": 3}}
    path.write_text(json.dumps(cell))
    return path


def test_average_over_benchmarks_is_taken_per_seed_then_over_seeds(tmp_path):
    paths = [
        write_cell(tmp_path, "t", 0, "a", 0.10), write_cell(tmp_path, "t", 0, "b", 0.30),  # seed 0 average 20
        write_cell(tmp_path, "t", 1, "a", 0.20), write_cell(tmp_path, "t", 1, "b", 0.60),  # seed 1 average 40
    ]
    cells = with_average(load_cells(paths), ["a", "b"])
    row = aggregate(cells).set_index("benchmark").loc[AVERAGE]
    assert row["mean"] == pytest.approx(30.0) and row["std"] == pytest.approx(14.142136, rel=1e-6)
    assert row["seeds"] == 2
    with pytest.raises(ValueError, match="needs every benchmark"):
        with_average(load_cells(paths[:3]), ["a", "b"])


def test_flexible_reading_is_its_own_column_when_asked(tmp_path):
    path = tmp_path / "cell.json"
    metrics = {"avg@8": 0.25, "flexible_avg@8": 0.5, "flexible_avg@8_ci95": [0.4, 0.6], "problems": 3}
    path.write_text(json.dumps({"model": "m", "method": "t", "seed": 0, "benchmark": "b", "metrics": metrics}))
    cells = load_cells([path])
    assert sorted(cells["metric"]) == ["avg@8", "flexible_avg@8"]
    table = wide_table(aggregate(cells), ["t"], "all", ["b Avg@8", "b flexible Avg@8"])
    assert list(table.columns) == ["model", "method", "b Avg@8", "b flexible Avg@8"]
    assert table.iloc[0]["b Avg@8"] == "25.0" and table.iloc[0]["b flexible Avg@8"] == "50.0"
    assert list(wide_table(aggregate(cells), ["t"], "all", ["b Avg@8"]).columns) == ["model", "method", "b Avg@8"]


def test_main_table_shows_flexible_columns_only_when_the_config_asks(tmp_path):
    raw = yaml.safe_load((Path(__file__).parents[1] / "configs" / "smoke.yaml").read_text())
    metrics = {"avg@4": 0.25, "pass@4": 0.5, "flexible_avg@4": 0.5, "flexible_pass@4": 0.75, "problems": 3}
    paths = []
    for method in ("base", "grpo-t1.0", "grpo-linear"):
        for seed in (0, 1):
            paths.append(tmp_path / f"{method}-{seed}.json")
            cell = {"model": "tiny-llama", "method": method, "seed": seed, "benchmark": "arith", "metrics": metrics}
            paths[-1].write_text(json.dumps(cell))
    for asked, extra in ((False, []), (True, ["arith flexible Avg@4", "arith flexible Pass@4"])):
        raw["eval"]["flexible_columns"] = asked
        make_tables(load_config(raw), "main", paths, tmp_path / str(asked))
        table = pd.read_csv(tmp_path / str(asked) / "main.csv")
        assert list(table.columns) == ["model", "method", "label", "arith Avg@4", "arith Pass@4", *extra]
    assert table["arith flexible Avg@4"].tolist() == ["50.0 ± 0.0 [50.0, 50.0]"] * 3


def test_every_table_states_the_base_model_spread_of_its_robustness_run(tmp_path):
    """statistics.base_spread: the std across pre-training seeds (3 base models here: Avg@4 20,
    24, 28 -> std 4.0; GRPO gains 10, 12, 14 -> std 2.0) closes each Markdown table."""
    smoke = yaml.safe_load((Path(__file__).parents[1] / "configs" / "smoke.yaml").read_text())
    robustness = {**smoke, "name": "rob", "models": {f"s{i}": smoke["models"]["tiny-llama"] for i in range(3)},
                  "methods": {"grpo-t1.0": smoke["methods"]["grpo-t1.0"]}}
    snapshot = tmp_path / "robustness"
    (snapshot / "rob" / "tables").mkdir(parents=True)
    (snapshot / "run.json").write_text(json.dumps({"experiments": {"rob": robustness}}))
    summary = [(f"s{i}", method, mean) for i, base in enumerate((20.0, 24.0, 28.0))
               for method, mean in (("base", base), ("grpo-t1.0", base + 10 + 2 * i))]
    pd.DataFrame([{"model": m, "method": r, "benchmark": "arith", "metric": "avg@4", "level": "all", "mean": v}
                  for m, r, v in summary]).to_csv(snapshot / "rob" / "tables" / "main_summary.csv", index=False)
    cell = tmp_path / "cell.json"
    cell.write_text(json.dumps({"model": "tiny-llama", "method": "base", "seed": 0, "benchmark": "arith",
                                "metrics": {"avg@4": 0.25, "problems": 3}}))
    for spread, expected in ((snapshot, "Across 3 pre-training seeds (" + str(snapshot) + ") the base model's Avg@4 "
                                        "has a std of 4.0 points and the gain of GRPO T = 1.0 one of 2.0"),
                             (tmp_path / "absent", "the spread across pre-training seeds is not measured yet")):
        raw = {**smoke, "methods": {}, "statistics": {"base_spread": str(spread)}}
        out = tmp_path / spread.name
        make_tables(load_config(raw), "main", [cell], out)
        for md in ("main.md", "main_by_level.md"):
            assert expected in (out / md).read_text().split("\n\n")[-1], md
        assert "seeds" not in (out / "main.csv").read_text()  # the CSV stays a table


def test_a_robustness_snapshot_with_more_than_one_method_is_named_in_the_error(tmp_path):
    """A robustness run trains one method on every base model; one that trained more (its config
    forgot to drop a method its recipe gained) is refused with the methods it has."""
    smoke = yaml.safe_load((Path(__file__).parents[1] / "configs" / "smoke.yaml").read_text())
    robustness = {**smoke, "name": "rob", "methods": {m: smoke["methods"][m] for m in ("grpo-t1.0", "grpo-linear")}}
    (tmp_path / "rob" / "tables").mkdir(parents=True)
    (tmp_path / "run.json").write_text(json.dumps({"experiments": {"rob": robustness}}))
    pd.DataFrame([{"model": "tiny-llama", "method": "base", "benchmark": "arith", "metric": "avg@4", "level": "all",
                   "mean": 20.0}]).to_csv(tmp_path / "rob" / "tables" / "main_summary.csv", index=False)
    with pytest.raises(ValueError, match=r"one method on every base model; it has \['grpo-t1.0', 'grpo-linear'\]"):
        spread_note(tmp_path, "rob")
