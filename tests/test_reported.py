"""Transcription checks for harness/reported: the CSVs load, averages recompute, no row is dropped, spot cells match."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.benchmarks import get_spec
from harness.reported import BENCHMARKS, COLUMNS, PAPERS, REPORTED_DIR, load_reported, read_reported_csv

# One row per printed number; counts are rows x numeric columns as printed in each table.
ROW_COUNTS = {
    ("tampo", "table1"): 6 * 12,  # 6 methods x (Average + 5 benchmarks) x (Pass@1, Pass@8)
    ("tampo", "table2"): 3 * 6,  # alpha in {0.01, 0.05, 0.10} x (Average + 5 benchmarks), Pass@1
    ("tampo", "table3"): 4 * 6,  # top-p in {0.9, 0.7, 0.5, 0} x (Average + 5 benchmarks), Pass@1
    ("tampo", "table4"): 3 * 12,  # 3 seeds x (Average + 5 benchmarks) x (Pass@1, Pass@8)
    ("tampo", "table5"): 3 * 2,  # 3 methods x (Pass@1, Pass@8) on ECQA
    ("introllm", "table1"): 2 * 7 * 11,  # 2 models x 7 methods x 11 numeric columns
    ("introllm", "table2"): 2 * 5 * 3,  # 2 models x 5 methods x (GPQA-D, MMLU-Pro, HumanEval)
    ("introllm", "table3"): 4 * 6 + 2,  # 4 rows x 6 context lengths + "+0.122%" printed in both IntroLLM rows
    ("introllm", "table4"): 3 * 2 * 8,  # 3 variants x 2 models x (3 benchmarks + Average) x (A@8, P@8)
    ("multitemp", "headline"): 3,  # +6 AIME24, +1 AIME25, +4.8 Minerva
}

TAMPO_MATH = ("aime24", "math500", "amc23", "minerva", "olympiadbench")
INTROLLM_MATH = ("aime24", "amc23", "math500", "minerva", "olympiadbench", "omni-math")
# Benchmarks each printed "Average" covers, and the tolerance (half a unit of the last printed digit plus a little).
AVG_COVERAGE: dict[tuple[str, str, str], tuple[tuple[str, ...], float]] = {
    # TAMPO Sec. 4.1: "five distinct mathematics-focused benchmarks"; every Average column is their mean (1 decimal).
    ("tampo", "table1", "pass@1"): (TAMPO_MATH, 0.051),
    ("tampo", "table1", "pass@8"): (TAMPO_MATH, 0.051),
    ("tampo", "table2", "pass@1"): (TAMPO_MATH, 0.051),
    ("tampo", "table3", "pass@1"): (TAMPO_MATH, 0.051),
    ("tampo", "table4", "pass@1"): (TAMPO_MATH, 0.051),
    ("tampo", "table4", "pass@8"): (TAMPO_MATH, 0.051),
    # IntroLLM Table 1 caption: "For AIME24, AMC23, MATH-500, and Average, we report both Avg@8 and Pass@8": the
    # Avg@8 average covers all six benchmarks, the Pass@8 average only the three with a Pass@8 column (2 decimals).
    ("introllm", "table1", "avg@8"): (INTROLLM_MATH, 0.0051),
    ("introllm", "table1", "pass@8"): (("aime24", "amc23", "math500"), 0.0051),
    # IntroLLM Table 4 shows only AIME 24, AMC23 and MATH(-500); its Average is over those three columns.
    ("introllm", "table4", "avg@8"): (("aime24", "amc23", "math500"), 0.0051),
    ("introllm", "table4", "pass@8"): (("aime24", "amc23", "math500"), 0.0051),
}
# (paper, table, model, row_label, metric) -> (recomputed mean, printed average) for averages that do not match
# their own row in the paper itself. None found: every printed average of TAMPO Tables 1-4 and IntroLLM Tables 1
# and 4 recomputes within rounding.
KNOWN_PAPER_INCONSISTENCIES: dict[tuple[str, str, str, str, str], tuple[float, float]] = {}

KEY = ["paper", "table", "model", "row_label", "benchmark", "metric"]


@pytest.fixture(scope="module")
def reported() -> pd.DataFrame:
    return load_reported()


def cell(
    df: pd.DataFrame, paper: str, table: str, row_label: str, benchmark: str, metric: str, model: str | None = None
) -> float:
    sel = (df.paper == paper) & (df.table == table) & (df.row_label == row_label) & (df.benchmark == benchmark)
    sel &= df.metric == metric
    if model is not None:
        sel &= df.model == model
    values = df.loc[sel, "value"].tolist()
    assert len(values) == 1, (paper, table, row_label, benchmark, metric, model, values)
    return values[0]


def test_every_csv_loads_and_validates(reported: pd.DataFrame) -> None:
    for paper in PAPERS:
        frame = load_reported(paper)
        assert list(frame.columns) == list(COLUMNS)
        assert len(frame) > 0 and set(frame.paper) == {paper}
        assert list(pd.read_csv(REPORTED_DIR / f"{paper}.csv").columns) == list(COLUMNS)  # plain pandas read
    assert set(reported.benchmark) <= BENCHMARKS | {"avg", ""}
    assert (reported.method.str.fullmatch(r"[a-z0-9][a-z0-9.\-]*")).all()
    assert (reported.model != "").all() and (reported.note.str.len() > 0).all()
    with pytest.raises(ValueError, match="unknown paper"):
        load_reported("nope")


def test_allowed_benchmarks_exist_in_registry() -> None:
    for name in BENCHMARKS:
        assert get_spec(name).name == name


def test_keys_unique(reported: pd.DataFrame) -> None:
    # model is part of the key: IntroLLM prints the same row labels ("Base", "IntroLLM (Ours)") under each model.
    duplicated = reported[reported.duplicated(KEY, keep=False)]
    assert duplicated.empty, duplicated[KEY].to_string()


def test_row_counts_per_table(reported: pd.DataFrame) -> None:
    assert reported.groupby(["paper", "table"]).size().to_dict() == ROW_COUNTS


def test_averages_recompute(reported: pd.DataFrame) -> None:
    checked, mismatches = 0, {}
    for (paper, table, model, row_label, metric), group in reported.groupby(
        ["paper", "table", "model", "row_label", "metric"]
    ):
        if "avg" not in set(group.benchmark):
            continue
        covered, tol = AVG_COVERAGE[(paper, table, metric)]
        parts = group[group.benchmark != "avg"].set_index("benchmark")["value"]
        assert sorted(parts.index) == sorted(covered), (paper, table, model, row_label, metric)
        printed = group.loc[group.benchmark == "avg", "value"].item()
        computed = parts.mean()
        key = (paper, table, model, row_label, metric)
        if key in KNOWN_PAPER_INCONSISTENCIES:
            want_computed, want_printed = KNOWN_PAPER_INCONSISTENCIES[key]
            assert printed == want_printed and computed == pytest.approx(want_computed, abs=tol)
            assert abs(computed - printed) > tol, f"{key} now matches: drop it from KNOWN_PAPER_INCONSISTENCIES"
        elif abs(computed - printed) > tol:
            mismatches[key] = (round(computed, 4), printed)
        checked += 1
    assert not mismatches, mismatches
    assert checked == 12 + 3 + 4 + 6 + 28 + 12  # every average cell in the transcribed tables was recomputed


def test_rows_repeated_across_tables_agree(reported: pd.DataFrame) -> None:
    def row(paper: str, table: str, row_label: str, model: str | None = None) -> dict[tuple[str, str], float]:
        sel = (reported.paper == paper) & (reported.table == table) & (reported.row_label == row_label)
        if model is not None:
            sel &= reported.model == model
        return {(b, m): v for b, m, v in reported.loc[sel, ["benchmark", "metric", "value"]].itertuples(index=False)}

    tampo = row("tampo", "table1", "TAMPO (Ours)")
    assert row("tampo", "table4", "TAMPO (Ours) Run 1") == tampo
    pass1 = {k: v for k, v in tampo.items() if k[1] == "pass@1"}
    assert row("tampo", "table2", "0.05") == pass1
    assert row("tampo", "table3", "Top-p (p: 0.7)") == pass1
    for model in ("Qwen3-1.7B-Base", "Qwen3-4B-Base"):
        ablation = {k: v for k, v in row("introllm", "table4", "IntroLLM", model).items() if k[0] != "avg"}
        assert ablation and ablation.items() <= row("introllm", "table1", "IntroLLM (Ours)", model).items()


@pytest.mark.parametrize(
    ("paper", "table", "row_label", "benchmark", "metric", "model", "expected"),
    [
        ("tampo", "table1", "TAMPO (Ours)", "avg", "pass@1", None, 44.5),  # TAMPO's best average
        ("tampo", "table1", "TAMPO (Ours)", "avg", "pass@8", None, 63.8),
        ("tampo", "table1", "DS-Qwen-1.5B", "aime24", "pass@1", None, 13.3),
        ("tampo", "table1", "GRPO (T_s: 0.9 → 1.5)", "olympiadbench", "pass@1", None, 41.0),
        ("tampo", "table2", "0.10", "amc23", "pass@1", None, 57.5),
        ("tampo", "table3", "Top-p (p: 0, greedy)", "math500", "pass@1", None, 73.8),
        ("tampo", "table4", "TAMPO (Ours) Run 2", "minerva", "pass@8", None, 45.6),
        ("tampo", "table5", "Qwen2.5-3B-Instruct (no RL)", "ecqa", "pass@1", None, 73.06),
        ("tampo", "table5", "TAMPO", "ecqa", "pass@8", None, 79.67),
        ("introllm", "table1", "IntroLLM (Ours)", "aime24", "avg@8", "Qwen3-4B-Base", 19.17),
        ("introllm", "table1", "GRPO (τ = 1.2)", "math500", "avg@8", "Qwen3-1.7B-Base", 68.35),
        ("introllm", "table1", "EAD (1.2→0.1)", "minerva", "avg@8", "Qwen3-4B-Base", 23.90),
        ("introllm", "table1", "Base", "avg", "pass@8", "Qwen3-1.7B-Base", 49.93),
        ("introllm", "table2", "Tampo (0.6-1.5)", "humaneval", "pass@1", "Qwen3-1.7B-Base", 35.98),
        ("introllm", "table2", "IntroLLM (Ours)", "gpqa-diamond", "accuracy", "Qwen3-4B-Base", 38.26),
        ("introllm", "table3", "Throughput / IntroLLM (Ours)", "", "throughput_tokens_per_s_ctx24k", None, 133.37),
        ("introllm", "table3", "FLOPs / Default Sampling", "", "flops_ctx4k", None, 1.45e16),
        ("introllm", "table3", "FLOPs / IntroLLM (Ours)", "", "param_delta_pct", None, 0.122),
        ("introllm", "table4", "Always-update", "amc23", "avg@8", "Qwen3-1.7B-Base", 39.69),
        ("introllm", "table4", "Prompt-level", "math500", "avg@8", "Qwen3-4B-Base", 80.97),
        ("multitemp", "headline", "token-level sampling method", "minerva", "gain_vs_baseline", None, 4.8),
    ],
)
def test_spot_cells(
    reported: pd.DataFrame,
    paper: str,
    table: str,
    row_label: str,
    benchmark: str,
    metric: str,
    model: str | None,
    expected: float,
) -> None:
    assert cell(reported, paper, table, row_label, benchmark, metric, model) == expected


S, B = "Qwen3-1.7B-Base", "Qwen3-4B-Base"
IN = "IntroLLM (Ours)"


@pytest.mark.parametrize(
    ("paper", "table", "better", "worse", "benchmark", "metric", "model", "stated"),
    [
        # TAMPO Sec. 4.2: "1.9% and 1.7% improvements in Pass@1 and Pass@8" over the best fixed temperature (T_s 1.5).
        ("tampo", "table1", "TAMPO (Ours)", "GRPO (T_s: 1.5)", "avg", "pass@1", None, 1.9),
        ("tampo", "table1", "TAMPO (Ours)", "GRPO (T_s: 1.5)", "avg", "pass@8", None, 1.7),
        # IntroLLM Sec. 5.1: gains over the second-best method.
        ("introllm", "table1", IN, "EAD (1.2→0.1)", "avg", "avg@8", S, 1.06),
        ("introllm", "table1", IN, "EAD (1.2→0.1)", "avg", "avg@8", B, 1.25),
        ("introllm", "table1", IN, "EAD (1.2→0.1)", "avg", "pass@8", S, 2.08),
        ("introllm", "table1", IN, "TAMPO (0.6-1.5)", "avg", "pass@8", B, 4.29),
        ("introllm", "table1", IN, "TAMPO (0.6-1.5)", "aime24", "avg@8", B, 4.17),
        ("introllm", "table1", IN, "GRPO (τ = 1.2)", "amc23", "pass@8", B, 5.0),
        ("introllm", "table2", IN, "EAD (1.2→0.1)", "gpqa-diamond", "accuracy", S, 1.26),
        ("introllm", "table2", IN, "EAD (1.2→0.1)", "mmlu-pro", "accuracy", S, 0.23),
        ("introllm", "table2", IN, "Tampo (0.6-1.5)", "humaneval", "pass@1", S, 1.82),
        ("introllm", "table2", IN, "EAD (1.2→0.1)", "gpqa-diamond", "accuracy", B, 0.07),
        ("introllm", "table2", IN, "Tampo (0.6-1.5)", "mmlu-pro", "accuracy", B, 0.49),
        ("introllm", "table2", IN, "EAD (1.2→0.1)", "humaneval", "pass@1", B, 0.61),
        # IntroLLM Sec. 5.3 (ablation).
        ("introllm", "table4", "IntroLLM", "Prompt-level", "avg", "avg@8", S, 2.81),
        ("introllm", "table4", "IntroLLM", "Prompt-level", "avg", "avg@8", B, 1.38),
        ("introllm", "table4", "IntroLLM", "Always-update", "avg", "avg@8", S, 0.88),
        ("introllm", "table4", "IntroLLM", "Always-update", "avg", "avg@8", B, 2.93),
        ("introllm", "table4", "Prompt-level", "Always-update", "avg", "avg@8", B, 1.55),
    ],
)
def test_in_text_differences_follow_from_the_tables(
    reported: pd.DataFrame,
    paper: str,
    table: str,
    better: str,
    worse: str,
    benchmark: str,
    metric: str,
    model: str | None,
    stated: float,
) -> None:
    """Differences the papers' prose states, recomputed from the transcribed cells (catches a mistyped cell)."""
    diff = cell(reported, paper, table, better, benchmark, metric, model)
    diff -= cell(reported, paper, table, worse, benchmark, metric, model)
    assert diff == pytest.approx(stated, abs=1e-9)


def test_leaderboard_card_values(reported: pd.DataFrame) -> None:
    """The TAMPO leaderboard card (an independent scrape) lists IntroLLM's Qwen3-4B-Base re-run of TAMPO plus one
    cell of TAMPO Table 1; both must agree with the transcription."""
    four_b = {
        "aime24": 15.0,
        "minerva": 22.79,
        "omni-math": 23.92,
        "avg": 38.83,
        "amc23": 50.62,
        "math500": 78.23,
        "olympiadbench": 42.43,
    }
    for bench, value in four_b.items():
        assert cell(reported, "introllm", "table1", "TAMPO (0.6-1.5)", bench, "avg@8", "Qwen3-4B-Base") == value
    assert cell(reported, "introllm", "table2", "Tampo (0.6-1.5)", "gpqa-diamond", "accuracy", "Qwen3-4B-Base") == 36.05
    assert cell(reported, "introllm", "table2", "Tampo (0.6-1.5)", "humaneval", "pass@1", "Qwen3-4B-Base") == 76.22
    assert cell(reported, "tampo", "table1", "TAMPO (Ours)", "minerva", "pass@1") == 27.9


GOOD_ROW = "tampo,table1,X,base,M,aime24,pass@1,1.0,,n"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("tampo,,X,base,M,aime24,pass@1,1.0,,n", "table"),
        ("introllm,table1,X,base,M,aime24,pass@1,1.0,,n", "paper"),
        ("tampo,table1,X,base,M,aime2024,pass@1,1.0,,n", "benchmark"),
        ("tampo,table1,X,base,M,aime24,pass@1,4O.5,,n", "value"),
        ("tampo,table1,X,base,M,aime24,pass@1,1.0,x,n", "std"),
        ("tampo,table1,X,base,M,aime24,pass@1,1.0,n", "row"),
    ],
)
def test_bad_file_names_file_line_and_field(tmp_path: Path, line: str, field: str) -> None:
    path = tmp_path / "tampo.csv"
    path.write_text(",".join(COLUMNS) + f"\n{GOOD_ROW}\n{line}\n")
    with pytest.raises(ValueError, match=rf"tampo\.csv: line 3, field '{field}'"):
        read_reported_csv(path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tampo.csv"
    path.write_text(",".join(c for c in COLUMNS if c != "metric") + "\n")
    with pytest.raises(ValueError, match=r"tampo\.csv: line 1, field 'metric'"):
        read_reported_csv(path)
    path.write_text(",".join(COLUMNS) + f"\n{GOOD_ROW}\n")
    assert read_reported_csv(path)["value"].tolist() == [1.0]
