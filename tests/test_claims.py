"""Claims flip with the evidence: each check on fixture results that make it hold, then on the
same fixtures flipped."""

from __future__ import annotations

import json

from harness.claims import Evidence, check_claims
from harness.config import load_config
from harness.io import write_jsonl
from harness.tables import load_cells

TABLE1 = {"benchmarks": {b: "arith" for b in ("aime24", "math500", "amc23", "minerva", "olympiadbench")}}


def tampo_config():
    methods = {f"grpo-t{t}": {"controller": "fixed", "temperature": float(t)} for t in ("0.9", "1.2", "1.5")}
    return load_config({
        "name": "c", "seeds": [0, 1, 2], "models": {"m": {"tiny": {}}},
        "methods": {**methods, "tampo": {"controller": "tampo"}},
        "eval": {"benchmarks": ["arith"], "n_samples": 8, "ks": [1, 8]},
        "reproduces": {"paper": "tampo", "tables": ["table1"], "models": {"m": "DeepSeek-R1-Distill-Qwen-1.5B"}, **TABLE1},
    })


def evidence(tmp_path, values: dict[str, tuple[float, ...]], train_logs=None, generations=None):
    paths = []
    for method, per_seed in values.items():
        for seed, v in enumerate(per_seed):
            path = tmp_path / f"{method}-{seed}.json"
            path.write_text(json.dumps({"model": "m", "method": method, "seed": seed, "benchmark": "arith",
                                        "metrics": {"avg@8": v, "pass@8": v}}))
            paths.append(path)
    return Evidence(load_cells(paths), generations or {}, train_logs or {})


def verdict(results, name):
    (result,) = [r for r in results if r["claim"] == name]
    return result["verdict"], result["evidence"]


def test_tampo_beats_best_fixed_holds_then_fails_when_flipped(tmp_path):
    cfg = tampo_config()
    strong, weak = (0.50, 0.52, 0.51), (0.40, 0.41, 0.42)
    fixed = {"grpo-t0.9": (0.30, 0.31, 0.32), "grpo-t1.5": (0.20, 0.21, 0.22)}
    holds = check_claims(cfg, evidence(tmp_path, {"tampo": strong, "grpo-t1.2": weak, **fixed}))
    assert verdict(holds, "tampo-beats-best-fixed")[0] == "holds"
    assert "grpo-t1.2" in verdict(holds, "tampo-beats-best-fixed")[1]  # compared with the best fixed T
    flipped = check_claims(cfg, evidence(tmp_path, {"tampo": weak, "grpo-t1.2": strong, **fixed}))
    assert verdict(flipped, "tampo-beats-best-fixed")[0] == "fails"
    noisy = check_claims(cfg, evidence(tmp_path, {"tampo": (0.3, 0.5, 0.4), "grpo-t1.2": (0.45, 0.35, 0.4), **fixed}))
    assert verdict(noisy, "tampo-beats-best-fixed")[0] == "inconclusive"


def test_t_star_by_advantage_sign_follows_the_histograms(tmp_path):
    cfg = tampo_config()
    values = {m: (0.4, 0.41, 0.42) for m in ("tampo", "grpo-t0.9", "grpo-t1.2", "grpo-t1.5")}

    def logs(pos, neg):
        log = tmp_path / "metrics.jsonl"
        write_jsonl(log, [{"step": s, "temp/t_star_pos_hist": pos, "temp/t_star_neg_hist": neg} for s in range(10)])
        return {("m", "tampo", 0): log}

    low, high = [60, 30, 10, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 10, 30, 60]
    result = check_claims(cfg, evidence(tmp_path, values, logs(low, high)))
    assert verdict(result, "t-star-by-advantage-sign")[0] == "holds"
    assert "mean T* 0.650 (positive, n = 1000) vs 1.450" in verdict(result, "t-star-by-advantage-sign")[1]
    same = check_claims(cfg, evidence(tmp_path, values, logs(low, low)))
    assert verdict(same, "t-star-by-advantage-sign")[0] == "fails"  # 1,000 each and no difference


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

    rising = check_claims(cfg, evidence(tmp_path, {}, generations=with_trend(+1)))
    assert verdict(rising, "temperature-rises-with-difficulty")[0] == "holds"
    falling = check_claims(cfg, evidence(tmp_path, {}, generations=with_trend(-1)))
    assert verdict(falling, "temperature-rises-with-difficulty")[0] == "fails"
    assert verdict(falling, "introllm-beats-tampo-and-ead")[0] == "inconclusive"  # no such rows here
