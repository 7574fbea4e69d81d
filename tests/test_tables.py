"""Tables from per-cell metric files: the papers' benchmark average, by hand."""

from __future__ import annotations

import json

import pytest

from harness.tables import AVERAGE, aggregate, load_cells, with_average


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
