"""Claims flip with the evidence: each check on fixture results that make it hold, then on the
same fixtures flipped; comparison claims say better, worse, equivalent or undecided."""

from __future__ import annotations

import numpy as np

from harness.claims import Evidence, check_claims, claim_inputs
from harness.config import load_config
from harness.io import write_jsonl
from harness.outcomes import generation_paths
from harness.paths import model_dir
from tests.cells import write_cell

TABLE1 = {"benchmarks": {b: "arith" for b in ("aime24", "math500", "amc23", "minerva", "olympiadbench")}}


def tampo_config():
    methods = {f"grpo-t{t}": {"controller": "fixed", "temperature": float(t)} for t in ("0.9", "1.2", "1.5")}
    return load_config({
        "name": "c", "seeds": [0, 1, 2], "models": {"m": {"tiny": {}}},
        "methods": {**methods, "tampo": {"controller": "tampo"}},
        "eval": {"benchmarks": ["arith"], "n_samples": 8, "ks": [1, 8]},
        "reproduces": {"paper": "tampo", "tables": ["table1"], "models": {"m": "DeepSeek-R1-Distill-Qwen-1.5B"}, **TABLE1},
    })


def draws(seed: int, rate: float) -> np.ndarray:
    """(30 problems, 8 samples) correct at `rate`, seeded."""
    return (np.random.default_rng(seed).random((30, 8)) < rate).astype(int)


def evidence(tmp_path, correct: dict[str, dict[int, np.ndarray]], train_logs=None):
    paths = [write_cell(tmp_path, m, s, c) for m, by_seed in correct.items() for s, c in by_seed.items()]
    return Evidence(generation_paths(paths), train_logs or {})


def verdict(results, name):
    (result,) = [r for r in results if r["claim"] == name]
    return result["verdict"], result["evidence"]


def test_tampo_beats_best_fixed_by_paired_verdicts(tmp_path):
    cfg = tampo_config()
    mid = {s: draws(s, 0.5) for s in (0, 1, 2)}  # GRPO T = 1.2, the best fixed temperature
    fixed = {"grpo-t0.9": {s: draws(10 + s, 0.3) for s in (0, 1, 2)}, "grpo-t1.5": {s: draws(20 + s, 0.2) for s in (0, 1, 2)}}
    strong = {s: mid[s] | draws(30 + s, 0.3) for s in (0, 1, 2)}  # every success of T = 1.2, and more
    better = check_claims(cfg, evidence(tmp_path / "a", {"tampo": strong, "grpo-t1.2": mid, **fixed}))
    assert verdict(better, "tampo-beats-best-fixed")[0] == "better"
    text = verdict(better, "tampo-beats-best-fixed")[1]
    assert "best fixed temperature (grpo-t1.2)" in text and "paired difference +" in text
    assert "unpaired (Welch)" in text and "MDD" in text and "points need" in text
    worse = check_claims(cfg, evidence(tmp_path / "b", {"tampo": mid, "grpo-t1.2": strong, **fixed}))
    assert verdict(worse, "tampo-beats-best-fixed")[0] == "worse"
    same = check_claims(cfg, evidence(tmp_path / "c", {"tampo": mid, "grpo-t1.2": mid, **fixed}))
    assert verdict(same, "tampo-beats-best-fixed")[0] == "equivalent"
    other = {s: draws(40 + s, 0.5) for s in (0, 1, 2)}  # as good on average, on other samples
    noisy = check_claims(cfg, evidence(tmp_path / "d", {"tampo": other, "grpo-t1.2": mid, **fixed}))
    assert verdict(noisy, "tampo-beats-best-fixed")[0] == "undecided"


def test_t_star_by_advantage_sign_follows_the_histograms(tmp_path):
    cfg = tampo_config()

    def logs(pos, neg):
        log = tmp_path / "metrics.jsonl"
        write_jsonl(log, [{"step": s, "temp/t_star_pos_hist": pos, "temp/t_star_neg_hist": neg} for s in range(10)])
        return {("m", "tampo", 0): log}

    low, high = [60, 30, 10, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 10, 30, 60]
    result = check_claims(cfg, Evidence({}, logs(low, high)))
    assert verdict(result, "t-star-by-advantage-sign")[0] == "holds"
    assert "mean T* 0.650 (positive, n = 1000) vs 1.450" in verdict(result, "t-star-by-advantage-sign")[1]
    same = check_claims(cfg, Evidence({}, logs(low, low)))
    assert verdict(same, "t-star-by-advantage-sign")[0] == "fails"  # 1,000 each and no difference


def test_a_renamed_method_is_checked_once_mapped_and_its_inputs_listed(tmp_path):
    """TAMPO run as `tampo-a05`: unmapped, the T* claim has nothing to read; mapped through
    reproduces.methods, it reads that run's logs, and claim_inputs lists that model."""
    raw = tampo_config().model_dump(mode="json")
    raw["methods"] = {**raw["methods"], "tampo-a05": raw["methods"].pop("tampo")}
    log = tmp_path / "metrics.jsonl"
    write_jsonl(log, [{"step": 0, "temp/t_star_pos_hist": [60, 40] + [0] * 8, "temp/t_star_neg_hist": [0] * 8 + [40, 60]}])
    ev = Evidence({}, {("m", "tampo-a05", 0): log})
    assert verdict(check_claims(load_config(raw), ev), "t-star-by-advantage-sign")[0] == "inconclusive"
    raw["reproduces"]["methods"] = {"tampo": "tampo-a05"}
    cfg = load_config(raw)
    assert verdict(check_claims(cfg, ev), "t-star-by-advantage-sign")[0] == "holds"
    inputs = claim_inputs(cfg, "c", ["table1"])
    assert inputs["models"] == [model_dir("c", "m", "tampo-a05", s) for s in (0, 1, 2)]
    assert len(inputs["evals"]) == 5 * 3  # base, grpo-t0.9/1.2/1.5 and tampo-a05; 3 seeds; 1 benchmark


def test_temperature_rises_with_difficulty_flips_with_the_trend(tmp_path):
    cfg = load_config({
        "name": "c", "seeds": [0], "models": {"m": {"tiny": {}}},
        "methods": {"introllm": {"controller": "introllm"}},
        "eval": {"benchmarks": ["arith"], "n_samples": 8, "ks": [1, 8], "temperature": "method"},
        "reproduces": {"paper": "introllm", "tables": ["table1"], "models": {"m": "Qwen3-1.7B-Base"}},
    })

    def with_trend(sign):
        path = tmp_path / f"gen{sign}.jsonl"
        write_jsonl(path, [{"id": f"{lv}-{i}", "level": lv, "correct": 1, "temperature_mean": 1.0 + sign * 0.05 * lv + 0.001 * i}
                           for lv in range(1, 6) for i in range(20)])
        return {("m", "introllm", 0, "arith"): path}

    rising = check_claims(cfg, Evidence(with_trend(+1), {}))
    assert verdict(rising, "temperature-rises-with-difficulty")[0] == "holds"
    falling = check_claims(cfg, Evidence(with_trend(-1), {}))
    assert verdict(falling, "temperature-rises-with-difficulty")[0] == "fails"
    assert verdict(falling, "introllm-beats-tampo-and-ead")[0] == "undecided"  # no such rows here
