"""The Countdown testbed through the pipeline: the default base model's skill on a sample (so a
silent regression of its SFT shows up), 2 GRPO steps from it through the same stages down to the
main table, and the default DAG. (The workflow's rules are the same for every experiment; they
run end to end on arith in tests/test_pipeline.py.)"""

from pathlib import Path

import pandas as pd

from harness import stages
from harness.answers import last_boxed
from harness.config import load_config, resolve_includes
from harness.config_file import read_config_file
from harness.data.countdown import attempt_value
from harness.io import read_jsonl
from tests.test_pipeline import REPO, job_counts, snakemake

# README, The Countdown testbed: at T = 1 the base model's replies are almost all valid attempts
# over the given numbers, and about 1 in 70 hits the target.
ATTEMPT_RATE = (0.85, 1.0)
HIT_RATE = (0.0025, 0.05)


def test_the_default_base_model_attempts_almost_always_and_rarely_hits_and_grpo_trains_from_it(tmp_path: Path):
    """configs/countdown.yaml's base model recipe (configs/countdown-recipe.yaml), evaluated on a seeded subset of 100 test
    problems x 4 samples (the subset leaves the training split, and so the SFT, unchanged); then
    2 TAMPO steps from it, evaluated and tabled beside it."""
    raw = resolve_includes(read_config_file(REPO / "configs" / "countdown.yaml"))
    raw["datasets"] = {"countdown": {"limit": 100}}
    raw["eval"] |= {"n_samples": 4, "ks": [1, 4]}
    raw["train"] |= {"steps": 2, "prompts_per_step": 4, "group_size": 4, "save_every": 2}
    cfg = load_config(raw)
    data = {name: tmp_path / f"{name}.jsonl" for name in ("countdown-train", "countdown")}
    for name, path in data.items():
        stages.prepare_dataset(cfg, name, path)
    stages.build_tokenizer(list(data.values()), tmp_path / "tokenizer")
    stages.base_model(cfg, "tiny-llama", tmp_path / "base", data["countdown-train"], tmp_path / "tokenizer")
    cells = {m: tmp_path / m / "countdown.json" for m in ("base", "tampo")}
    stages.evaluate_cell(cfg, "tiny-llama", "base", 0, "countdown", tmp_path / "base", data["countdown"],
                         cells["base"], tmp_path / "base" / "countdown.generations.jsonl")
    numbers = {r["id"]: r["numbers"] for r in read_jsonl(data["countdown"])}
    rows = read_jsonl(tmp_path / "base" / "countdown.generations.jsonl")
    assert len(rows) == 400
    attempts = sum(attempt_value(last_boxed(r["response"]) or "", numbers[r["id"]]) is not None for r in rows) / len(rows)
    hits = sum(r["correct"] for r in rows) / len(rows)
    print(f"valid attempts {attempts:.3f}, hits {hits:.4f}")
    assert ATTEMPT_RATE[0] <= attempts <= ATTEMPT_RATE[1]
    assert HIT_RATE[0] <= hits <= HIT_RATE[1]

    stages.train_cell(cfg, "tiny-llama", "tampo", 0, tmp_path / "base", data["countdown-train"], tmp_path / "run",
                      tmp_path / "tampo" / "model")
    steps = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    assert [s["step"] for s in steps] == [0, 1] and all("temp/pi" in s for s in steps)
    assert {k for s in steps for k in s if k.startswith("reward_L")} <= {"reward_L3", "reward_L4"}  # per level
    stages.evaluate_cell(cfg, "tiny-llama", "tampo", 0, "countdown", tmp_path / "tampo" / "model", data["countdown"],
                         cells["tampo"], tmp_path / "tampo" / "countdown.generations.jsonl")
    stages.make_tables(cfg, "main", list(cells.values()), tmp_path / "tables")
    table = pd.read_csv(tmp_path / "tables" / "main.csv")
    assert table["method"].tolist() == ["base", "tampo"]
    assert list(table.columns) == ["model", "method", "label", "countdown Avg@4", "countdown Pass@4"]


def test_countdown_dry_run_lists_every_method_and_seed(tmp_path: Path):
    out = snakemake("-n", "--cores", "2", "--quiet", "rules", config="configs/countdown.yaml", workdir=tmp_path)
    assert out.returncode == 0, out.stderr
    cfg = load_config(REPO / "configs" / "countdown.yaml")
    assert len(cfg.methods) == 12 and list(cfg.methods)[-1] == "grpo-t1.8" and cfg.seeds == [0, 1, 2]
    assert job_counts(out.stdout) == {"all": 1, "dataset": 2, "tokenizer": 1, "base_model": 1, "train": 36,
                                      "evaluate": 39, "table": 1, "statistics": 1, "figures": 1, "report_tables": 1}
