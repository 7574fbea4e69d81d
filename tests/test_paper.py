"""Paper tables and diffs from fixture metric files, checked by hand (TAMPO Table 2 layout)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.config import load_config
from harness.io import write_jsonl
from harness.paper import write_paper_table

# Per method: (seed 0, seed 1) Avg@2 overall, at level 1 and at level 2, as fractions.
FIXTURE = {
    "tampo": {"all": (0.35, 0.45), "1": (0.5, 0.7), "2": (0.2, 0.2)},
    "tampo-alpha0.01": {"all": (0.35, 0.35), "1": (0.4, 0.4), "2": (0.3, 0.3)},
    "tampo-alpha0.10": {"all": (0.1, 0.2), "1": (0.1, 0.1), "2": (0.1, 0.3)},
}


def config():
    return load_config({
        "name": "fixture", "seeds": [0, 1], "models": {"m": {"tiny": {}}},
        "methods": {"tampo": {"controller": "tampo"}},
        "ablations": {"tampo-alpha0.01": {"controller": "tampo", "alpha": 0.01},
                      "tampo-alpha0.10": {"controller": "tampo", "alpha": 0.10}},
        "eval": {"benchmarks": ["arith"], "n_samples": 2, "ks": [1, 2]},
        "reproduces": {
            "paper": "tampo", "tables": ["table2"], "models": {"m": "DeepSeek-R1-Distill-Qwen-1.5B"},
            "benchmarks": {"aime24": "arith@1", "math500": "arith@1", "amc23": "arith@2", "minerva": "arith@2",
                           "olympiadbench": "arith"},
        },
    })


def write_cells(tmp_path, fixture):
    paths = []
    for method, values in fixture.items():
        for seed in (0, 1):
            metrics = {"avg@2": values["all"][seed], "by_level": {lv: {"avg@2": values[lv][seed]} for lv in ("1", "2")}}
            path = tmp_path / f"{method}-{seed}.json"
            path.write_text(json.dumps({"model": "m", "method": method, "seed": seed, "benchmark": "arith", "metrics": metrics}))
            paths.append(path)
    # Generations for tampo only: 4 level-1 problems; seed 0 solves 1 of 2 samples of each, seed 1 2 of 2 of
    # problems a-c and 0 of d: per-problem means over seeds 75, 75, 75, 25.
    for seed, correct in ((0, {"a": [1, 0], "b": [1, 0], "c": [0, 1], "d": [1, 0]}),
                          (1, {"a": [1, 1], "b": [1, 1], "c": [1, 1], "d": [0, 0]})):
        rows = [{"id": p, "level": 1, "correct": c} for p, cs in correct.items() for c in cs]
        write_jsonl(tmp_path / f"tampo-{seed}.generations.jsonl", rows)
    return paths


def build(tmp_path, fixture=FIXTURE):
    write_paper_table(config(), "table2", write_cells(tmp_path, fixture), tmp_path / "t2", tmp_path / "d2")
    return (tmp_path / "t2.md").read_text(), pd.read_csv(tmp_path / "d2.csv")


def test_table_in_the_papers_layout_with_best_bold_and_second_underlined(tmp_path):
    md, _ = build(tmp_path)
    lines = md.splitlines()
    header = [c.strip() for c in lines[2].strip("|").split("|")]
    assert header == ["model", "row_label", "Average Pass@1", "aime24 Pass@1", "math500 Pass@1", "amc23 Pass@1",
                      "minerva Pass@1", "olympiadbench Pass@1"]
    rows = {cells[1]: cells[2:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines[4:])}
    assert list(rows) == ["0.01", "0.05", "0.10"]  # the paper's row order
    # Average: per seed over the 5 columns: tampo 35, 45 -> 40 ± 7.1; alpha 0.01 35, 35; alpha 0.10 10, 20 -> 15
    assert rows["0.05"][0] == "**40.0 ± 7.1**" and rows["0.01"][0] == "<u>35.0 ± 0.0</u>" and rows["0.10"][0] == "15.0 ± 7.1"
    assert rows["0.05"][1] == "**60.0 ± 14.1**" and rows["0.01"][1] == "<u>40.0 ± 0.0</u>"
    # amc23 (level 2): alpha 0.01 best at 30; tampo and alpha 0.10 tie at 20, both second
    assert rows["0.01"][3] == "**30.0 ± 0.0**" and rows["0.05"][3] == "<u>20.0 ± 0.0</u>"
    assert rows["0.10"][3] == "<u>20.0 ± 14.1</u>"
    tex = (tmp_path / "t2.tex").read_text()
    assert "\\textbf{40.0 $\\pm$ 7.1}" in tex and "\\underline{35.0 $\\pm$ 0.0}" in tex
    numbers = pd.read_csv(tmp_path / "t2.csv")
    avg = numbers[(numbers["row_label"].astype(str) == "0.05") & (numbers["benchmark"] == "avg")].iloc[0]
    assert avg["mean"] == pytest.approx(40.0) and avg["seeds"] == 2


def test_diff_against_reported_values_with_both_intervals(tmp_path):
    _, diff = build(tmp_path)
    assert len(diff) == 18  # every reported cell of Table 2
    row = diff[(diff["method"] == "tampo") & (diff["benchmark"] == "avg")].iloc[0]
    assert row["reported"] == 44.5 and row["ours"] == pytest.approx(40.0) and row["delta"] == pytest.approx(-4.5)
    # t-interval over 2 seeds: 40 ± 12.706 * 7.071 / sqrt(2) = [-23.5, 103.5]: the paper's 44.5 is inside
    assert row["seed_ci_low"] == pytest.approx(-23.53, abs=0.01) and row["in_seed_ci"]
    flat = diff[(diff["method"] == "tampo-alpha0.01") & (diff["benchmark"] == "avg")].iloc[0]
    assert flat["seed_ci_low"] == flat["seed_ci_high"] == pytest.approx(35.0) and not flat["in_seed_ci"]
    aime = diff[(diff["method"] == "tampo") & (diff["benchmark"] == "aime24")].iloc[0]
    # problems' seed means 75, 75, 75, 25 (mean 62.5): the bootstrap interval lies within [25, 75]
    assert 25.0 <= aime["problem_ci_low"] < 62.5 < aime["problem_ci_high"] <= 75.0
    assert pd.isna(row["problem_ci_low"])  # no problem-level interval for an average over benchmarks
    report = (tmp_path / "d2.md").read_text()
    assert "reported values lie inside one of our 95% intervals" in report
    assert json.loads((tmp_path / "d2.json").read_text())[0]["table"] == "table2"


def test_reproduces_section_is_validated():
    from harness.config import ConfigError

    raw = config().model_dump(mode="json")
    raw["reproduces"]["tables"] = ["table9"]
    with pytest.raises(ConfigError, match=r"table9.*allowed: \['table1', 'table2'"):
        load_config(raw)
    raw["reproduces"]["tables"] = ["table2"]
    raw["reproduces"]["benchmarks"] = {"aime24": "math500@5"}
    with pytest.raises(ConfigError, match="not in eval.benchmarks"):
        load_config(raw)
