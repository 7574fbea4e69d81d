"""A training job's evaluation handed to the evaluation job (harness.handoff): adopted only when
computed from the same inputs, and then the same files an evaluation would write."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import handoff
from harness.config import load_config
from harness.config_file import read_config_file
from harness.io import read_jsonl, write_jsonl
from harness.stages import evaluate_after_training, evaluate_cell, run_evaluation, train_cell

REPO = Path(__file__).resolve().parent.parent


def handoff_config(n_samples: int = 4) -> object:
    return load_config({
        "name": "handoff", "seeds": [0], "models": {"m": {"tiny": {}}},
        "train": {"steps": 1, "prompts_per_step": 2, "group_size": 4, "max_new_tokens": 12, "lr": 1e-3, "save_every": 10},
        "methods": {"fixed": {"controller": "fixed", "temperature": 1.0}},
        "eval": {"benchmarks": ["arith"], "n_samples": n_samples, "ks": [1, 2], "max_new_tokens": 12},
    })


@pytest.fixture(scope="module")
def trained(tmp_path_factory, toy_policy_dir, toy_records) -> tuple[Path, Path]:
    """A model trained one step, evaluated by its 'training job' (kept under model/evaluations)."""
    root = tmp_path_factory.mktemp("handoff")
    data = root / "arith.jsonl"
    write_jsonl(data, toy_records)
    cfg = handoff_config()
    train_cell(cfg, "m", "fixed", 0, toy_policy_dir, data, root / "train", root / "model")
    evaluate_after_training(cfg, "m", "fixed", 0, root / "model", lambda benchmark: root / f"{benchmark}.jsonl")
    return root / "model", data


def copy_model(model_dir: Path, to: Path) -> Path:
    return Path(shutil.copytree(model_dir, to / "model"))


def test_the_adopted_evaluation_is_the_one_the_evaluation_job_computes(trained, tmp_path, capsys):
    model_dir, data = trained
    cfg = handoff_config()
    summary = evaluate_cell(cfg, "m", "fixed", 0, "arith", model_dir, data, tmp_path / "a.json", tmp_path / "a.jsonl")
    assert "adopted the evaluation of arith" in capsys.readouterr().out
    fresh = run_evaluation(cfg, "m", "fixed", 0, "arith", model_dir, data, tmp_path / "f.json", tmp_path / "f.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "f.jsonl").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "f.json").read_bytes()
    assert handoff.adopted(tmp_path / "a.json", model_dir, "arith")  # a copy: harness.model_flops counts its work in training
    assert summary == json.loads(json.dumps(fresh)) and len(read_jsonl(tmp_path / "a.jsonl")) == 2 * 4  # 2 problems x 4 samples


def test_other_eval_settings_are_evaluated_and_named(trained, tmp_path, capsys):
    model_dir, data = trained
    cfg = handoff_config(n_samples=2)
    evaluate_cell(cfg, "m", "fixed", 0, "arith", model_dir, data, tmp_path / "a.json", tmp_path / "a.jsonl")
    out = capsys.readouterr().out
    assert "not adopting the evaluation of arith" in out and "config.eval.n_samples: 4 -> 2" in out
    assert len(read_jsonl(tmp_path / "a.jsonl")) == 2 * 2  # evaluated with the new setting
    assert not handoff.adopted(tmp_path / "a.json", model_dir, "arith")


def test_another_dataset_is_evaluated(trained, tmp_path, capsys, toy_records):
    model_dir, _ = trained
    data = tmp_path / "arith.jsonl"
    write_jsonl(data, toy_records[:1])
    evaluate_cell(handoff_config(), "m", "fixed", 0, "arith", model_dir, data, tmp_path / "a.json", tmp_path / "a.jsonl")
    out = capsys.readouterr().out
    assert "not adopting" in out and "dataset:" in out
    assert len(read_jsonl(tmp_path / "a.jsonl")) == 1 * 4


def test_other_weights_or_another_seed_are_evaluated(trained, tmp_path, capsys, toy_policy_dir):
    model_dir, data = trained
    changed = copy_model(model_dir, tmp_path)
    shutil.copyfile(toy_policy_dir / "model.safetensors", changed / "model.safetensors")
    evaluate_cell(handoff_config(), "m", "fixed", 0, "arith", changed, data, tmp_path / "a.json", tmp_path / "a.jsonl")
    assert "model_files:" in capsys.readouterr().out
    evaluate_cell(handoff_config(), "m", "fixed", 1, "arith", model_dir, data, tmp_path / "b.json", tmp_path / "b.jsonl")
    out = capsys.readouterr().out
    assert "cell.seed: 0 -> 1" in out
    assert json.loads((tmp_path / "b.json").read_text())["seed"] == 1


def test_an_evaluation_killed_before_its_key_is_not_adopted(trained, tmp_path, capsys):
    model_dir, data = trained
    unsealed = copy_model(model_dir, tmp_path)
    _, _, key = handoff.handoff_paths(unsealed, "arith")
    key.unlink()  # the metrics and generations are there, the key (written last) is not
    (unsealed / handoff.HANDOFF_DIR / "arith.json").write_text("{}")  # would break adoption if trusted
    summary = evaluate_cell(handoff_config(), "m", "fixed", 0, "arith", unsealed, data, tmp_path / "a.json", tmp_path / "a.jsonl")
    assert "adopt" not in capsys.readouterr().out and "avg@4" in summary


def test_a_failed_evaluation_in_the_training_job_keeps_the_model(trained, tmp_path, capsys, monkeypatch):
    """An evaluation that fails inside the training job does not fail the job (Snakemake would
    then delete the trained model): its partial files go, no key is written, the log says why,
    and the evaluation job evaluates the cell itself."""
    from harness import stages

    model_dir, data = trained
    fresh = copy_model(model_dir, tmp_path)
    shutil.rmtree(fresh / handoff.HANDOFF_DIR)

    def crash(*args):  # writes part of its output, then fails
        args[-2].parent.mkdir(parents=True, exist_ok=True)
        args[-2].write_text("{")
        raise RuntimeError("scorer crashed")

    with monkeypatch.context() as patch:
        patch.setattr(stages, "run_evaluation", crash)
        evaluate_after_training(handoff_config(), "m", "fixed", 0, fresh, lambda benchmark: data)
    log = capsys.readouterr().out
    assert "evaluation of arith failed" in log and "RuntimeError: scorer crashed" in log
    assert not any(path.exists() for path in handoff.handoff_paths(fresh, "arith"))
    summary = evaluate_cell(handoff_config(), "m", "fixed", 0, "arith", fresh, data, tmp_path / "a.json", tmp_path / "a.jsonl")
    assert "adopt" not in capsys.readouterr().out and "avg@4" in summary


def test_recompute_evaluates_although_the_key_matches(trained, tmp_path, capsys):
    """`harness eval --recompute`: the cell is evaluated even with a sealed evaluation of the same
    inputs at hand (here tampered with, so that a copy would show)."""
    model_dir, data = trained
    tampered = copy_model(model_dir, tmp_path)
    metrics, generations, _ = handoff.handoff_paths(tampered, "arith")
    generations.write_text('{"tampered": true}\n')
    cfg = handoff_config()
    evaluate_cell(cfg, "m", "fixed", 0, "arith", tampered, data, tmp_path / "copy.json", tmp_path / "copy.jsonl")
    assert "adopted" in capsys.readouterr().out and (tmp_path / "copy.jsonl").read_bytes() == generations.read_bytes()
    evaluate_cell(cfg, "m", "fixed", 0, "arith", tampered, data, tmp_path / "r.json", tmp_path / "r.jsonl", recompute=True)
    assert "adopt" not in capsys.readouterr().out
    fresh = run_evaluation(cfg, "m", "fixed", 0, "arith", model_dir, data, tmp_path / "f.json", tmp_path / "f.jsonl")
    assert (tmp_path / "r.jsonl").read_bytes() == (tmp_path / "f.jsonl").read_bytes()
    assert json.loads((tmp_path / "r.json").read_text())["metrics"] == json.loads(json.dumps(fresh))


def test_the_evaluation_job_s_key_needs_no_torch_and_equals_the_sealed_one(trained):
    """The evaluation job computes the key from the config as Snakemake hands it over (the
    resolved config in JSON mode) and its thread count, before torch is loaded."""
    model_dir, data = trained
    key = handoff.handoff_key(handoff_config().model_dump(mode="json"), "m", "fixed", 0, "arith", model_dir, data, 1)
    assert json.loads(json.dumps(key)) == key
    assert set(key) == {"config", "cell", "model_files", "dataset", "code", "versions", "numerics"}
    assert json.loads(handoff.handoff_paths(model_dir, "arith")[2].read_text()) == key
    script = ("import sys; from pathlib import Path; from harness import handoff; "
              f"handoff.handoff_key({{}}, 'm', 'fixed', 0, 'arith', Path({str(model_dir)!r}), Path({str(data)!r}), 1); "
              "assert 'torch' not in sys.modules, 'torch was loaded'")
    subprocess.run([sys.executable, "-c", script], check=True)


@pytest.mark.parametrize("config", ["configs/tiny.yaml", "configs/countdown.yaml", "configs/smoke.yaml"])
def test_a_resolved_config_loads_back_to_itself(config):
    """The workflow hands jobs the resolved config (model_dump); the training job loads it and
    keys with its dump again, the evaluation job keys with it as handed over: the same dict."""
    resolved = load_config(read_config_file(REPO / config)).model_dump(mode="json")
    assert load_config(resolved).model_dump(mode="json") == resolved


def test_snakemake_s_timestamp_in_the_model_directory_is_not_an_input(trained, tmp_path, capsys):
    model_dir, data = trained
    stamped = copy_model(model_dir, tmp_path)
    (stamped / ".snakemake_timestamp").touch()  # Snakemake adds it to a directory output after the job
    evaluate_cell(handoff_config(), "m", "fixed", 0, "arith", stamped, data, tmp_path / "a.json", tmp_path / "a.jsonl")
    assert "adopted the evaluation of arith" in capsys.readouterr().out
