"""Paper tables and diffs from fixture metric files, checked by hand (TAMPO Table 2 layout):
the table, each reported value's reproduction status and the paper's ordering pair by pair."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.config import load_config
from harness.io import write_jsonl
from harness.reproduction import ordering, status, write_paper_table

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
    """Each cell's JSON, and generations that agree with it: 10 problems per level x 2 samples,
    the level's share of correct samples filled in problem order (level 1 at 0.5: problems 0-4
    right twice, 5-9 never)."""
    paths = []
    for method, values in fixture.items():
        for seed in (0, 1):
            metrics = {"avg@2": values["all"][seed], "by_level": {lv: {"avg@2": values[lv][seed]} for lv in ("1", "2")}}
            path = tmp_path / f"{method}-{seed}.json"
            path.write_text(json.dumps({"model": "m", "method": method, "seed": seed, "benchmark": "arith", "metrics": metrics}))
            paths.append(path)
            rows = [{"id": f"L{lv}-{p}", "level": int(lv), "sample": j, "correct": int(2 * p + j < round(20 * values[lv][seed]))}
                    for lv in ("1", "2") for p in range(10) for j in range(2)]
            write_jsonl(path.with_suffix(".generations.jsonl"), rows)
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


def test_diff_gives_each_reported_value_a_status(tmp_path):
    _, diff = build(tmp_path)
    assert len(diff) == 18  # every reported cell of Table 2
    row = diff[(diff["method"] == "tampo") & (diff["benchmark"] == "avg")].iloc[0]
    assert row["reported"] == 44.5 and row["ours"] == pytest.approx(40.0) and row["delta"] == pytest.approx(-4.5)
    # seeds 35 and 45: t-interval 40 ± 12.706 * 7.071 / sqrt(2) = [-23.5, 103.5] holds the paper's 44.5
    assert row["ci_low"] == pytest.approx(-23.53, abs=0.01) and row["status"] == "OK"
    assert row["sigma_r"] == pytest.approx(7.071, abs=1e-3)  # one run's spread: the seeds' std
    flat = diff[(diff["method"] == "tampo-alpha0.01") & (diff["benchmark"] == "avg")].iloc[0]
    assert flat["ci_low"] == flat["ci_high"] == pytest.approx(35.0) and flat["status"] == "FAIL"  # 41.6, no noise
    report = (tmp_path / "d2.md").read_text()
    counts = diff["status"].value_counts()
    assert f"Reproduction status of 18 reported values: {counts.get('OK', 0)} OK, {counts.get('OKISH', 0)} OKISH" in report
    assert json.loads((tmp_path / "d2.json").read_text())[0]["table"] == "table2"


def test_the_papers_ordering_pair_by_pair(tmp_path):
    build(tmp_path)
    order = pd.read_csv(tmp_path / "d2_ordering.csv", dtype={"row_a": str, "row_b": str})
    assert len(order) == 3 * 6  # 3 pairs of rows x 6 columns
    avg = order[order["average"]].set_index(["row_a", "row_b"])
    # 0.05 (tampo) vs 0.10: seeds 35 - 10 and 45 - 20, +25 both; the paper has 44.5 > 43.6
    tampo = avg.loc[("0.05", "0.10")]
    assert tampo["difference"] == pytest.approx(25.0) and tampo["paper_difference"] == pytest.approx(0.9)
    assert tampo["verdict"] == "better" and tampo["ordering"] == "reproduced"
    # 0.01 vs 0.05: seeds 35 - 35 and 35 - 45; two seeds that disagree decide nothing
    assert avg.loc[("0.01", "0.05"), "ordering"] == "unresolved"
    md = (tmp_path / "d2.md").read_text()
    assert "Ordering of methods, 18 pairs over every column:" in md and "0.05 vs 0.10" in md


@pytest.mark.parametrize("reported,ours,low,high,sigma_r,expected", [
    (44.0, 40.0, 36.0, 44.0, 1.0, "OK"),  # on the interval's edge
    (44.1, 40.0, 36.0, 44.0, 1.5, "OKISH"),  # |4.1| <= 2.8 * 1.5 = 4.2
    (44.3, 40.0, 36.0, 44.0, 1.5, "FAIL"),
    (44.0, 40.0, float("nan"), float("nan"), float("nan"), "–"),
])
def test_status_boundaries(reported, ours, low, high, sigma_r, expected):
    assert status(reported, ours, low, high, sigma_r) == expected


def test_ordering_rules():
    assert ordering(+2.0, "better") == "reproduced" and ordering(-2.0, "better") == "reversed"
    assert ordering(+2.0, "equivalent") == ordering(+2.0, "undecided") == "unresolved"
    assert ordering(0.0, "equivalent") == "reproduced" and ordering(0.0, "worse") == "reversed"


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
