"""Tables from per-cell metric files: the papers' benchmark average, by hand; flexible columns."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.config import load_config
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
