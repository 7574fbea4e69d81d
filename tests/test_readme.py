"""The README's numbers are generated from the committed reference copies (harness/readme.py):
the README is up to date with reference/, a block is replaced and nothing else, unknown blocks
are refused, and the snapshot copies a run's record, tables and job times."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness import readme
from harness.config import load_config
from harness.io import write_json, write_jsonl
from harness.snapshot import DIGESTS, read_digests, run_digests, verify_run, write_digests

REPO = Path(__file__).resolve().parent.parent


def test_readme_numbers_are_those_rendered_from_reference():
    text = readme.README.read_text()
    names = set(readme.blocks_in(text))
    assert set(readme.BLOCKS) == names
    assert readme.rewrite(text, readme.render(text)) == text, "README.md is stale: run make readme-numbers"


def test_rewrite_replaces_block_bodies_only():
    text = "intro\n<!-- numbers:a -->\nold\n<!-- /numbers:a -->\nmiddle\n<!-- numbers:b -->\n<!-- /numbers:b -->\nend\n"
    new = readme.rewrite(text, {"a": "A 1\n", "b": "B 2\n"})
    assert new == "intro\n<!-- numbers:a -->\nA 1\n<!-- /numbers:a -->\nmiddle\n<!-- numbers:b -->\nB 2\n<!-- /numbers:b -->\nend\n"
    with pytest.raises(ValueError, match=r"\['c'\] have no renderer"):
        readme.rewrite("<!-- numbers:c -->\nx\n<!-- /numbers:c -->\n", {"a": ""})


def write_time(path: Path, wall: float, cpu: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\tcpu_time\n{wall}\t0:00:{int(wall):02d}\t100.0\t{cpu}\n")


def test_job_times_reads_every_benchmark_file(tmp_path: Path):
    write_time(tmp_path / "m" / "base_model.time.tsv", 12.5, 12.0)
    write_time(tmp_path / "m" / "grpo-t1.0" / "seed2" / "train.time.tsv", 30.0, 29.0)
    write_time(tmp_path / "m" / "base" / "seed0" / "eval-arith.time.tsv", 4.0, 3.5)
    jobs = readme.job_times(tmp_path).set_index("job")
    assert jobs.loc["base_model", ["kind", "method", "wall_s"]].tolist() == ["base_model", "base", 12.5]
    assert jobs.loc["train", ["kind", "model", "method", "seed", "cpu_s"]].tolist() == ["train", "m", "grpo-t1.0", 2, 29.0]
    assert jobs.loc["eval-arith", ["kind", "method", "seed"]].tolist() == ["eval", "base", 0]
    write_time(tmp_path / "m" / "other.time.tsv", 1.0, 1.0)
    with pytest.raises(ValueError, match="not a job time file"):
        readme.job_times(tmp_path)


def test_snapshot_copies_record_tables_curves_and_job_times(tmp_path: Path):
    """A run of configs/smoke.yaml (one fixed temperature, 2 seeds): what the blocks read."""
    results, logs, reference = tmp_path / "results", tmp_path / "logs", tmp_path / "reference"
    cfg = load_config(REPO / "configs" / "smoke.yaml")
    (results / "smoke" / "tables").mkdir(parents=True)
    (results / "run.json").write_text(json.dumps({"experiments": {"smoke": cfg.model_dump(mode="json")}}))
    for name in readme.TABLE_FILES[:-1]:
        (results / "smoke" / "tables" / name).write_text(f"{name}\n")
    with pytest.raises(FileNotFoundError, match="comparisons.csv"):
        readme.snapshot(results, reference, logs)
    (results / "smoke" / "tables" / "comparisons.csv").write_text("c\n")
    for shift, method in enumerate(cfg.methods):
        for seed in (0, 1):
            write_jsonl(results / "smoke" / "tiny-llama" / method / f"seed{seed}" / "train" / "metrics.jsonl",
                        [{"step": s, "reward": 0.1 * s + seed + 10 * shift, "entropy": 1.0, "response_length": 5.0,
                          "temperature_mean": 1.0, "lr": 0.1}
                         for s in range(3)])
    for figure in readme.FIGURES:
        (results / "smoke" / "figures" / "tiny-llama").mkdir(parents=True, exist_ok=True)
        (results / "smoke" / "figures" / "tiny-llama" / figure).write_bytes(b"png")
    write_time(logs / "smoke" / "tiny-llama" / "base_model.time.tsv", 3.0, 2.0)
    base = results / "smoke" / "tiny-llama" / "base" / "model"
    base.mkdir(parents=True)
    (base / "run.json").write_text(json.dumps({"parameters": 1000}))
    write_jsonl(base / "pretrain_metrics.jsonl", [{"step": s, "tokens/trained": 500} for s in range(4)])
    (reference / "stale").mkdir(parents=True)
    readme.snapshot(results, reference, logs)
    assert not (reference / "stale").exists()
    assert json.loads((reference / "run.json").read_text())["experiments"]["smoke"]["name"] == "smoke"
    assert (reference / "smoke" / "tables" / "main.csv").read_text() == "main.csv\n"
    jobs = pd.read_csv(reference / "smoke" / "jobs.csv")
    assert jobs["wall_s"].tolist() == [3.0] and jobs["gflop"].tolist() == [6 * 1000 * 2000 / 1e9]
    curves = pd.read_csv(reference / "smoke" / "curves.csv")
    assert curves.columns.tolist() == ["model", "method", "seed", "step", "reward", "entropy", "response_length", "temperature_mean"]
    assert curves["method"].unique().tolist() == ["grpo-t1.0", "grpo-linear"]  # every method, the adaptive ones too
    assert curves["reward"].tolist() == pytest.approx([0.0, 0.1, 0.2, 1.0, 1.1, 1.2, 10.0, 10.1, 10.2, 11.0, 11.1, 11.2])
    assert (reference / "smoke" / "figures" / "tiny-llama" / "entropy.png").read_bytes() == b"png"
    assert read_digests(reference / DIGESTS) == {  # the tables here: a run's files of RUN_FILES, and nothing else
        f"smoke/tables/{name}": hashlib.sha256((results / "smoke" / "tables" / name).read_bytes()).hexdigest()
        for name in sorted(readme.TABLE_FILES)}
    (results / "smoke" / "figures" / "tiny-llama" / "entropy.png").unlink()  # a run that lost a figure
    (results / "smoke" / "tables" / "main.csv").write_text("newer\n")
    with pytest.raises(FileNotFoundError, match="entropy.png"):
        readme.snapshot(results, reference, logs)
    assert (reference / "smoke" / "tables" / "main.csv").read_text() == "main.csv\n"  # the previous snapshot, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "reference", "results"]  # no staging left behind


def test_a_benchmark_is_recorded_with_its_machine_and_rendered_as_its_block(tmp_path: Path):
    script = tmp_path / "bench.py"
    script.write_text('print("model: /somewhere")\nprint("\\n### Figures (1 thread)\\n")\nprint("| a | b |\\n|---|---|\\n| 1 | 2 |")\n')
    record = readme.record_benchmark(script, tmp_path / "reference" / "benchmarks" / "bench.json", "0123456789abcdef+dirty")
    assert json.loads((tmp_path / "reference" / "benchmarks" / "bench.json").read_text()) == record
    assert record["numerics"]["mode"] == "pinned" and record["numerics"]["torch_threads"] == 1
    head, *body = readme.benchmark_block(record).splitlines()
    assert head.startswith(f"`python benchmarks/bench.py` at revision `0123456789+dirty`, {record['finished'][:10]}: ")
    assert "pinned numerics" in head and "1 thread per job" in head and re.search(r"; 0 min \d+ s\.$", head)
    assert f"1 thread per job, Python {platform.python_version()} ({sys.base_prefix}); " in head
    assert body == ["#### Figures (1 thread)", "", "| a | b |", "|---|---|", "| 1 | 2 |"]


@pytest.mark.parametrize("name", list(readme.REPEATS))
def test_a_repeat_of_the_grid_compares_every_file_of_the_run(tmp_path: Path, name: str):
    """The emulated-CPU and other-CPU blocks: the same comparison, each against the reference run of its day."""
    numerics = {"mode": "pinned", "job_threads": 1, "aten_capability": "AVX2", "vector_math": "numpy", "matmul": "openblas-Haswell",
                "cpu": {"model": "Some CPU", "flags": ["avx2"]}, "environment": {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "OMP_NUM_THREADS": "1"}}
    record = {"command": ["snakemake", "--cores", "2"], "git_revision": "0123456789abcdef", "finished": "2026-12-02T04:00:00+00:00",
              "wall_seconds": 125.0, "from_scratch": True, "models_trained": 2, "cells_evaluated": 2,
              "experiments": {"tiny": {**yaml.safe_load((REPO / "configs" / "smoke.yaml").read_text()), "name": "tiny"}},
              "numerics": numerics}
    files = {"tiny/data/arith.jsonl": "a", "tiny/tiny-llama/base/model/model.safetensors": "w", "tiny/tables/main.csv": "t"}
    for run in (readme.DEFAULT, name):
        (tmp_path / run).mkdir()
        (tmp_path / run / "run.json").write_text(json.dumps(record))
        for file, content in files.items():
            (tmp_path / run / "results" / file).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / run / "results" / file).write_text(content)
        write_digests(tmp_path / run / DIGESTS, run_digests(tmp_path / run / "results", ["tiny"]))
    write_json(tmp_path / name / readme.COMPARED_WITH, readme.reference_digests(tmp_path / readme.DEFAULT))
    text = readme.repeat_block(tmp_path, name)
    assert text.startswith("`snakemake --cores 2` at revision `0123456789`, 2026-12-02: Some CPU (avx2), pinned numerics")
    assert text.endswith("2 min 5 s from scratch (2 models trained, 2 cells evaluated). Set: MKL_ENABLE_INSTRUCTIONS=AVX2; "
                         "all 3 dataset, weight, generations and table files are byte-identical to the reference run's "
                         "(revision `0123456789`).\n")
    repeat = tmp_path / name
    (repeat / "results" / "tiny/tiny-llama/base/model/model.safetensors").write_text("other weights")
    write_digests(repeat / DIGESTS, run_digests(repeat / "results", ["tiny"]))
    assert ("1 differences from the reference run's 3 files (revision `0123456789`): "
            "differs: tiny/tiny-llama/base/model/model.safetensors." in readme.repeat_block(tmp_path, name))
    # a later reference run (another recipe) replaces the default one: the comparison stays with
    # the run it was made against, and the block says the new one has not been repeated
    (repeat / "results" / "tiny/tiny-llama/base/model/model.safetensors").write_text("w")
    write_digests(repeat / DIGESTS, run_digests(repeat / "results", ["tiny"]))
    (tmp_path / readme.DEFAULT / "results" / "tiny/tables/main.csv").write_text("new")
    write_digests(tmp_path / readme.DEFAULT / DIGESTS, run_digests(tmp_path / readme.DEFAULT / "results", ["tiny"]))
    (tmp_path / readme.DEFAULT / "run.json").write_text(json.dumps(record | {"git_revision": "fedcba9876543210"}))
    text = readme.repeat_block(tmp_path, name)
    assert "all 3 dataset, weight, generations and table files are byte-identical to the reference run's (revision `0123456789`)." in text
    assert text.endswith("The current reference run (revision `fedcba9876`) is later and has not been repeated "
                         f"{readme.REPEATS[name]}; the 2 dataset, weight and generations files it shares with that "
                         "run, computed from the same settings, are byte-identical to that run's.\n")
    (tmp_path / readme.DEFAULT / "results" / "tiny/data/arith.jsonl").write_text("other data")
    write_digests(tmp_path / readme.DEFAULT / DIGESTS, run_digests(tmp_path / readme.DEFAULT / "results", ["tiny"]))
    assert readme.repeat_block(tmp_path, name).endswith(
        "1 of the 2 dataset, weight and generations files it shares with that run, computed from the same "
        "settings, differ from that run's: tiny/data/arith.jsonl.\n")
    # a test set limited differently is another file, not a difference; the base model still compares
    limited = record["experiments"]["tiny"] | {"datasets": {"arith": {"limit": 10}}}
    (tmp_path / readme.DEFAULT / "run.json").write_text(json.dumps(
        record | {"git_revision": "fedcba9876543210", "experiments": {"tiny": limited}}))
    assert readme.repeat_block(tmp_path, name).endswith(
        "the 1 dataset, weight and generations files it shares with that run, computed from the same settings, "
        "are byte-identical to that run's.\n")


def test_a_revision_shows_its_short_hash_and_whether_the_tree_had_changes():
    assert readme.revision("0123456789abcdef0123") == "0123456789"
    assert readme.revision("0123456789abcdef0123+dirty") == "0123456789+dirty"


def test_the_spread_counts_the_default_grids_own_base_model_too(tmp_path: Path):
    """Robustness run: base Avg@4 20, 24, 28 and gains 10, 12, 14; the default grid's own base
    model 30 with GRPO at 46 (gain 16). Four seeds: base std sqrt(59 / 3) = 4.43, gain std
    sqrt(20 / 3) = 2.58."""
    smoke = yaml.safe_load((Path(__file__).parents[1] / "configs" / "smoke.yaml").read_text())
    grpo = {"grpo-t1.0": smoke["methods"]["grpo-t1.0"]}
    runs = {"robustness-arith": ({**smoke, "name": "rob", "models": {f"s{i}": smoke["models"]["tiny-llama"] for i in range(3)},
                                  "methods": grpo}, [(f"s{i}", m, v) for i, b in enumerate((20.0, 24.0, 28.0))
                                                     for m, v in (("base", b), ("grpo-t1.0", b + 10 + 2 * i))]),
            readme.DEFAULT: ({**smoke, "name": "tiny", "methods": grpo}, [("tiny-llama", "base", 30.0), ("tiny-llama", "grpo-t1.0", 46.0)])}
    for run, (cfg, rows) in runs.items():
        (tmp_path / run / cfg["name"] / "tables").mkdir(parents=True)
        (tmp_path / run / "run.json").write_text(json.dumps({"experiments": {cfg["name"]: cfg}}))
        pd.DataFrame([{"model": m, "method": r, "benchmark": "arith", "metric": "avg@4", "level": "all", "mean": v}
                      for m, r, v in rows]).to_csv(tmp_path / run / cfg["name"] / "tables" / "main_summary.csv", index=False)
    _, method, base, gain = readme.with_default_model(tmp_path, "robustness-arith")
    assert method == "grpo-t1.0" and base.tolist() == [20.0, 24.0, 28.0, 30.0] and gain.tolist() == [10.0, 12.0, 14.0, 16.0]
    note = readme.main_spread_note(tmp_path, "robustness-arith", readme.DEFAULT, "tiny")
    assert "Across 4 pre-training seeds (this one and 3 of the robustness run; Robustness, below)" in note
    assert "has a std of 4.4 points and the gain of GRPO T = 1.0 one of 2.6" in note
    longer = {**runs[readme.DEFAULT][0], "train": {**smoke["train"], "steps": smoke["train"]["steps"] + 1}}
    (tmp_path / readme.DEFAULT / "run.json").write_text(json.dumps({"experiments": {"tiny": longer}}))
    assert (f"(this one and 3 of the robustness run, the gains over the recipe's {smoke['train']['steps']} GRPO steps, "
            f"not {smoke['train']['steps'] + 1}; Robustness, below)") in readme.main_spread_note(
                tmp_path, "robustness-arith", readme.DEFAULT, "tiny")


def test_a_run_took_off_when_its_last_third_rewards_more_than_the_threshold():
    """6 steps: the last third is steps 4-5; the threshold is 1% of rollouts hitting."""
    rewards = {("a", 0): [0, 0, 0, 0, 0.0, 0.015], ("a", 1): [0.5, 0.5, 0.5, 0.5, 0.0, 0.0], ("b", 0): [0, 0, 0, 0, 0.02, 0.02]}
    curves = pd.DataFrame([{"method": m, "seed": s, "step": t, "reward": r}
                           for (m, s), rs in rewards.items() for t, r in enumerate(rs)])
    assert readme.took_off(curves, 6).to_dict() == {("a", 0): False, ("a", 1): False, ("b", 0): True}


def test_the_curves_table_shows_each_column_per_third_of_the_run(tmp_path: Path):
    """6 steps in thirds of 2; the adaptive method's mean T rises 0.9, 1.1 / 1.3, 1.5 / 1.7, 1.9
    (two seeds alike): 1.00, 1.40, 1.80. Without `methods`, only the fixed temperatures."""
    smoke = yaml.safe_load((Path(__file__).parents[1] / "configs" / "smoke.yaml").read_text())
    smoke["train"] = {**smoke.get("train", {}), "steps": 6}
    (tmp_path / "smoke" / "tables").mkdir(parents=True)
    (tmp_path / "smoke" / "tables" / "main_summary.csv").write_text("method,metric,level,mean\n")  # read beside the config
    (tmp_path / "run.json").write_text(json.dumps({"experiments": {"smoke": smoke}}))
    pd.DataFrame([{"model": "tiny-llama", "method": m, "seed": seed, "step": t, "reward": 0.01 * t, "entropy": 0.5,
                   "response_length": 5.0, "temperature_mean": 1.0 if m == "grpo-t1.0" else 0.9 + 0.2 * t}
                  for m in ("grpo-t1.0", "grpo-linear") for seed in (0, 1) for t in range(6)]
                 ).to_csv(tmp_path / "smoke" / "curves.csv", index=False)
    table = readme.curves_table(tmp_path, "smoke", ["grpo-linear"], ("temperature_mean",)).splitlines()
    assert table[0] == "| method | mean T, steps 0-1 | mean T, steps 2-3 | mean T, steps 4-5 |"
    assert table[2:] == ["| GRPO T: 0.9 -> 1.5 | 1.00 | 1.40 | 1.80 |"]
    fixed = readme.curves_table(tmp_path, "smoke").splitlines()
    assert fixed[2:] == ["| GRPO T = 1.0 | 0.5% | 2.5% | 4.5% | 0.500 | 0.500 | 0.500 |"]


def test_a_rerun_is_verified_file_by_file_against_the_reference(tmp_path: Path, capsys):
    results, reference = tmp_path / "run" / "results", tmp_path / "reference"
    files = {"e/data/d.jsonl": b"{}\n", "e/m/base/model/model.safetensors": b"w0", "e/m/t/seed0/model/model.safetensors": b"w1",
             "e/m/t/seed0/model/controller.pt": b"c", "e/m/t/seed0/eval/b.generations.jsonl": b"g", "e/tables/main.csv": b"t"}
    for name, data in files.items():
        (results / name).parent.mkdir(parents=True, exist_ok=True)
        (results / name).write_bytes(data)
    (results / "e/m/t/seed0/model/run.json").write_text('{"seconds": 1.5}')  # timings: not compared
    (results / "e/tables/main.md").write_text("t, then the spread of a robustness snapshot")  # not compared
    reference.mkdir()
    (reference / "run.json").write_text(json.dumps({"experiments": {"e": {}}, "git_revision": "0123456789abcdef"}))
    write_digests(reference / DIGESTS, run_digests(results, ["e"]))
    assert sorted(read_digests(reference / DIGESTS)) == sorted(files)
    assert readme.verify(results, reference) == 0
    assert "all 6 dataset, weight, generations and table files are byte-identical" in capsys.readouterr().out
    (results / "e/m/t/seed0/model/model.safetensors").write_bytes(b"w2")
    (results / "e/m/t/seed0/eval/b.generations.jsonl").unlink()
    (results / "e/tables/extra.csv").write_text("x")
    (results / "e/tables/main.md").write_text("t, then the spread of another robustness snapshot")
    assert verify_run(results, reference) == ["differs: e/m/t/seed0/model/model.safetensors",
                                              "missing: e/m/t/seed0/eval/b.generations.jsonl",
                                              "not in the reference: e/tables/extra.csv"]
    assert readme.verify(results, reference) == 1 and "3 differences from those of the reference run reference" in capsys.readouterr().out
    (reference / DIGESTS).unlink()
    with pytest.raises(FileNotFoundError, match="snapshotted before digests were kept"):
        verify_run(results, reference)


def test_a_sweep_is_compared_with_the_default_grid_on_the_runs_they_share(tmp_path: Path):
    """The files of another experiment that the default grid has too (same data, base model,
    method and seed) are matched by path, its name swapped for the grid's; tables are not, nor
    the runs of methods not trained alike."""
    default = {"countdown/data/c.jsonl": "d", "countdown/m/base/model/model.safetensors": "b",
               "countdown/m/t/seed0/model/model.safetensors": "w0", "countdown/tables/main.csv": "t"}
    sweep = {"sweep/data/c.jsonl": "d", "sweep/m/base/model/model.safetensors": "b",
             "sweep/m/t/seed0/model/model.safetensors": "w0", "sweep/m/t/seed5/model/model.safetensors": "w5",
             "sweep/tables/main.csv": "other"}
    for run, digests in (("default", default), ("sweep", sweep)):
        (tmp_path / run).mkdir()
        write_digests(tmp_path / run / DIGESTS, digests)
    shared = ["sweep/data/c.jsonl", "sweep/m/base/model/model.safetensors", "sweep/m/t/seed0/model/model.safetensors"]
    assert readme.shared_files(tmp_path, "sweep", "countdown", lambda name: True) == (shared, [])
    assert readme.shared_files(tmp_path, "sweep", "countdown", lambda name: "/t/" not in name) == (shared[:2], [])
    write_digests(tmp_path / "sweep" / DIGESTS, sweep | {"sweep/m/t/seed0/model/model.safetensors": "w1"})
    assert readme.shared_files(tmp_path, "sweep", "countdown", lambda name: True) == (
        shared, ["sweep/m/t/seed0/model/model.safetensors"])


def test_files_compare_only_where_both_experiments_computed_them_from_the_same_settings():
    grid, sweep = (load_config(REPO / "configs" / f) for f in ("countdown.yaml", "countdown-sweep10.yaml"))
    assert readme.computed_alike(sweep, grid, "countdown-sweep10/data/countdown-train.jsonl")
    assert readme.computed_alike(sweep, grid, "countdown-sweep10/tiny-llama/base/model/model.safetensors")
    assert readme.computed_alike(sweep, grid, "countdown-sweep10/tiny-llama/base/seed0/eval/countdown.generations.jsonl")
    assert not readme.computed_alike(sweep, grid, "countdown-sweep10/tiny-llama/grpo-t1.0/seed0/model/model.safetensors")
    tiny, hot = (load_config(REPO / "configs" / f) for f in ("tiny.yaml", "arith-hot.yaml"))
    assert readme.computed_alike(hot, tiny, "arith-hot/tiny-llama/grpo-t1.0/seed0/eval/arith.generations.jsonl")
    whole = tiny.model_copy(update={"datasets": {}})  # every test problem: another test set, other generations
    assert readme.computed_alike(hot, whole, "arith-hot/tiny-llama/grpo-t1.0/seed0/model/model.safetensors")
    assert not readme.computed_alike(hot, whole, "arith-hot/tiny-llama/grpo-t1.0/seed0/eval/arith.generations.jsonl")
    assert not readme.computed_alike(hot, whole, "arith-hot/data/arith.jsonl")


def test_methods_are_trained_alike_only_under_the_same_train_settings():
    grid = load_config(REPO / "configs" / "countdown.yaml")  # 70 steps
    recipe, sweep = (load_config(REPO / "configs" / f) for f in ("countdown-recipe.yaml", "countdown-sweep10.yaml"))
    assert readme.trained_alike(sweep, grid) == (set(), ["train.steps 70 against 100"])
    alike, differ = readme.trained_alike(sweep, recipe)
    assert differ == [] and alike == {"grpo-t0.6", "grpo-t1.0", "grpo-t1.2"}  # T = 1.4-1.8 are not the recipe's
    hot = load_config(REPO / "configs" / "arith-hot.yaml")
    assert readme.trained_alike(hot, load_config(REPO / "configs" / "tiny.yaml")) == ({"grpo-t1.0"}, [])


@pytest.mark.parametrize("digests", sorted((REPO / "reference").glob("*/files.sha256")), ids=lambda p: p.parent.name)
def test_a_committed_digest_file_lists_exactly_what_a_rerun_hashes(digests: Path, tmp_path: Path):
    """A rerun is compared file by file: a committed name that `run_digests` would not hash
    (e.g. a Markdown table, kept before they were left out) would be reported missing."""
    names = read_digests(digests)
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert sorted(run_digests(tmp_path, {name.split("/")[0] for name in names})) == sorted(names)


RUNS = [d for d in sorted((REPO / "reference").iterdir()) if (d / "run.json").exists() and d.name not in readme.REPEATS]


@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.name)
def test_a_reference_run_was_made_with_the_config_files_as_they_are(run: Path):
    """Each reference run's recorded configs are what its config files resolve to now, method
    order included (it orders every table, so a reordered include would fail `make verify`);
    the default grid's experiments are configs/{name}.yaml. The repeats of the grid (emulated CPU, other CPU) are compared
    with the reference run of its own day, kept with it (its block)."""
    record = readme.run_record(run)
    command = record["command"]
    files = [command[i + 1] for i, arg in enumerate(command) if arg == "--configfile"]
    configs = [load_config(REPO / f) for f in files or [f"configs/{exp}.yaml" for exp in record["experiments"]]]
    resolved = {cfg.name: json.dumps(cfg.model_dump(mode="json")) for cfg in configs}
    recorded = {exp: json.dumps(load_config(raw).model_dump(mode="json")) for exp, raw in record["experiments"].items()}
    assert resolved == recorded
