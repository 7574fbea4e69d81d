"""The Snakemake workflow: the default DAG (dry run) and a minimal real run end to end."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]


def snakemake(*args, config="configs/tiny.yaml", workdir):
    """Run the workflow in `workdir` (an empty results/ there), with a config of the repository."""
    cmd = [*SNAKEMAKE, "--configfile", str(REPO / config), "--directory", str(workdir), *args]
    return subprocess.run(cmd, capture_output=True, text=True)


def job_counts(stdout: str) -> dict[str, int]:
    lines = stdout.split("Job stats:")[1].splitlines()[3:]
    return {name: int(count) for name, count in (line.split() for line in lines if line.strip() and line.split()[0] != "total")}


def test_default_dry_run_lists_the_whole_grid(tmp_path):
    out = snakemake("-n", "--cores", "2", "--quiet", "rules", workdir=tmp_path)
    assert out.returncode == 0, out.stderr
    counts = job_counts(out.stdout)
    # 11 methods x 3 seeds trained; those 33 and the base model x 3 seeds evaluated
    assert counts == {"all": 1, "evaluate": 36, "prepare": 1, "pretrain": 1, "table": 1, "train": 33}


def test_ablations_target_adds_every_variant(tmp_path):
    out = snakemake("ablations", "-n", "--cores", "2", "--quiet", "rules", workdir=tmp_path)
    assert out.returncode == 0, out.stderr
    counts = job_counts(out.stdout)
    # 15 rows besides base (3 of them also in the main grid) x 3 seeds
    assert counts["train"] == 45 and counts["evaluate"] == 48 and counts["table"] == 1


def test_one_cell_is_one_target(tmp_path):
    cell = "results/tiny/tiny-llama/grpo-t1.2/seed2/eval/arith.json"
    out = snakemake(cell, "-n", "--cores", "2", "--quiet", "rules", workdir=tmp_path)
    assert out.returncode == 0, out.stderr
    assert job_counts(out.stdout) == {"evaluate": 1, "prepare": 1, "pretrain": 1, "train": 1}


def test_bad_config_stops_the_workflow_with_the_field_named(tmp_path):
    out = snakemake("-n", "--cores", "1", "--config", "train={'loss_aggregation': 'mean'}", workdir=tmp_path)
    assert out.returncode != 0
    assert "loss_aggregation" in out.stderr + out.stdout


def test_smoke_run_end_to_end(tmp_path):
    out = snakemake("--cores", "2", config="configs/smoke.yaml", workdir=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    root = tmp_path / "results" / "smoke"
    table = pd.read_csv(root / "tables" / "main.csv")
    assert table["method"].tolist() == ["base", "grpo-t1.0", "grpo-linear"]
    assert list(table.columns) == ["model", "method", "arith Avg@4", "arith Pass@4"]
    cell = json.loads((root / "tiny-llama" / "grpo-linear" / "seed1" / "eval" / "arith.json").read_text())
    assert cell["method"] == "grpo-linear" and cell["seed"] == 1
    assert cell["provenance"]["config"]["name"] == "smoke" and cell["provenance"]["versions"]["torch"]
    generations = (root / "tiny-llama" / "grpo-linear" / "seed1" / "eval" / "arith.generations.jsonl").read_text()
    assert len(generations.splitlines()) == 12 * 4  # 2 levels x 6 problems, 4 samples each
    steps = (root / "tiny-llama" / "grpo-linear" / "seed1" / "train" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(s)["step"] for s in steps] == [0, 1, 2]
    assert (root / "tiny-llama" / "grpo-linear" / "seed1" / "model" / "train_metrics.jsonl").exists()
    again = snakemake("--cores", "2", config="configs/smoke.yaml", workdir=tmp_path)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
