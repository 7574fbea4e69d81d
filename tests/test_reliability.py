"""Nothing a config change, a by-hand override or a kill does may corrupt results (issue 12):
checkpoints keyed to their run, overridden runs outside the pipeline's cells, and a rerun
after a kill that just works."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from harness import stages
from harness.checkpoint import KEY_FILE, StaleCheckpointError, list_checkpoints
from harness.cli import main, resolve
from harness.config import load_config
from harness.io import write_jsonl
from harness.rerun_triggers import dropped_triggers_note
from harness.snakemake_locks import RUNS_DIR
from harness.train import train
from tests.test_train import CFG, METHOD

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "configs" / "smoke.yaml"


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(model_dir / "model.safetensors")


def same_weights(a: Path, b: Path) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def go(tmp, policy, records, cfg=CFG, name="run", stop=None, stale="refuse"):
    return train(policy, records, METHOD, cfg, 3, tmp / name, tmp / f"{name}-final", {}, stop, "chat", stale)


# ---------------------------------------------------------------- checkpoints keyed to their run


def test_a_checkpoint_of_another_config_is_refused_with_what_differs(tmp_path, toy_policy_dir, toy_records):
    go(tmp_path, toy_policy_dir, toy_records, stop=2)  # a killed (or finished) run leaves step 2
    with pytest.raises(StaleCheckpointError) as err:
        go(tmp_path, toy_policy_dir, toy_records, CFG.model_copy(update={"lr": 2e-3}))
    message = str(err.value)
    assert "checkpoint step_000002 was written by another run configuration (train.lr: 0.001 -> 0.002)" in message
    assert f"delete {tmp_path / 'run'}" in message
    assert not (tmp_path / "run-final").exists()  # nothing trained, nothing labelled


def test_base_model_and_training_data_are_part_of_the_key(tmp_path, toy_policy_dir, toy_records):
    go(tmp_path, toy_policy_dir, toy_records, stop=2)
    other_base = tmp_path / "other-base"
    shutil.copytree(toy_policy_dir, other_base)
    tensors = weights(other_base)
    name = next(iter(tensors))
    tensors[name] = tensors[name] + 1e-3
    save_file(tensors, other_base / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(StaleCheckpointError, match=r"\(base_model: '[0-9a-f]{64}' -> '[0-9a-f]{64}'\)"):
        go(tmp_path, other_base, toy_records)
    fewer = toy_records[:1]
    with pytest.raises(StaleCheckpointError, match=r"\(train_data: '[0-9a-f]{64}' -> '[0-9a-f]{64}'\)"):
        go(tmp_path, toy_policy_dir, fewer)


def test_the_workflow_discards_a_stale_checkpoint_and_trains_the_new_config_from_step_0(
    tmp_path, toy_policy_dir, toy_records, caplog
):
    go(tmp_path, toy_policy_dir, toy_records, stop=2)
    new = CFG.model_copy(update={"lr": 2e-3})
    go(tmp_path, toy_policy_dir, toy_records, new, stale="discard")
    assert "was written by another run configuration (train.lr: 0.001 -> 0.002); removed it" in caplog.text
    go(tmp_path, toy_policy_dir, toy_records, new, name="fresh")
    assert same_weights(tmp_path / "run-final", tmp_path / "fresh-final")
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2, 3]
    assert json.loads((tmp_path / "run-final" / "run.json").read_text())["resumed_from"] == []


def test_execution_settings_do_not_key_checkpoints_and_other_revisions_are_recorded(tmp_path, toy_policy_dir, toy_records):
    go(tmp_path, toy_policy_dir, toy_records, name="full")
    go(tmp_path, toy_policy_dir, toy_records, stop=2)
    [checkpoint] = list_checkpoints(tmp_path / "run")
    saved = json.loads((checkpoint / KEY_FILE).read_text())
    (checkpoint / KEY_FILE).write_text(json.dumps({**saved, "git_revision": "0" * 40}))
    go(tmp_path, toy_policy_dir, toy_records, CFG.model_copy(update={"save_every": 3, "keep_checkpoints": 2}))
    assert same_weights(tmp_path / "run-final", tmp_path / "full-final")  # resumed at step 2, exactly
    meta = json.loads((tmp_path / "run-final" / "run.json").read_text())
    assert meta["resumed_from"] == [{"step": 2, "git_revision": "0" * 40}]


# ---------------------------------------------------------------- by-hand overrides keep out of pipeline cells


@pytest.fixture
def smoke_inputs(tmp_path, toy_policy_dir, toy_records, monkeypatch):
    """results/smoke/ with a base model and training data, as the pipeline leaves them; cwd = tmp_path."""
    write_jsonl(tmp_path / "results" / "smoke" / "data" / "arith-train.jsonl", toy_records)
    write_jsonl(tmp_path / "results" / "smoke" / "data" / "arith.jsonl", toy_records)
    shutil.copytree(toy_policy_dir, tmp_path / "results" / "smoke" / "tiny-llama" / "base" / "model")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "results"


def test_overridden_runs_write_their_own_cells_and_read_the_pipeline_inputs(smoke_inputs):
    cell = ["--config", str(SMOKE), "--model", "tiny-llama", "--method", "grpo-t1.0", "--seed", "0"]
    overrides = ["--set", "train.steps=2", "--set", "eval.limit=1"]
    main(["train", *cell, *overrides])
    main(["eval", *cell, *overrides, "--benchmark", "arith"])
    exp = resolve(SMOKE, overrides[1::2]).exp
    assert exp.startswith("smoke+") and len(exp) == len("smoke+") + 8
    variant = smoke_inputs / exp / "tiny-llama" / "grpo-t1.0" / "seed0"
    assert json.loads((variant / "eval" / "arith.json").read_text())["metrics"]["problems"] == 1
    assert [json.loads(r)["step"] for r in (variant / "train" / "metrics.jsonl").read_text().splitlines()] == [0, 1]
    assert not (smoke_inputs / "smoke" / "tiny-llama" / "grpo-t1.0").exists()  # the pipeline's cell is untouched
    other = resolve(SMOKE, ["train.steps=2", "train.lr=1e-3"]).exp
    assert other.startswith("smoke+") and other != exp  # each override set has its own cells


def test_overrides_that_change_nothing_computed_use_the_pipeline_cells(smoke_inputs):
    assert resolve(SMOKE, ["train.steps=3", "train.save_every=1", "train.processes=1"]).exp == "smoke"
    changed_inputs = resolve(SMOKE, ["data.seed=4"])
    assert changed_inputs.exp == changed_inputs.inputs_exp != "smoke"  # new data: new inputs too


def test_a_missing_checkpoint_directory_names_the_field(smoke_inputs):
    with pytest.raises(SystemExit) as exit_:
        main(["base-model", "--config", str(SMOKE), "--model", "tiny-llama", "--set",
              "models.tiny-llama={checkpoint: ./no/such/dir}"])
    assert str(exit_.value.code) == (
        "harness: models.tiny-llama.checkpoint: './no/such/dir' is not an existing directory; allowed: a directory "
        "holding a transformers checkpoint (config.json, weights, tokenizer), or a hub id such as Qwen/Qwen3-1.7B-Base"
    )


# ---------------------------------------------------------------- kills


def snakemake(workdir: Path, *args: str, **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--configfile", str(SMOKE),
           "--directory", str(workdir), "--cores", "1", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def finished(process: subprocess.Popen) -> tuple[int, str]:
    out, _ = process.communicate(timeout=600)
    return process.returncode, out


def test_a_killed_run_leaves_a_lock_and_temporaries_that_the_next_run_clears(tmp_path):
    target = "results/smoke/tiny-llama/base/model"
    killed = tmp_path / "killed"
    run = snakemake(killed, target, start_new_session=True)
    base = killed / "results" / "smoke" / "tiny-llama" / "base"
    deadline = time.monotonic() + 300
    while not list(base.glob(".model.*/.owner.json")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before its base_model job wrote anything"
    os.killpg(run.pid, signal.SIGKILL)  # kill -9 the whole run: Snakemake and its job
    run.wait()
    assert list((killed / ".snakemake" / "locks").glob("*.lock")) and list(base.glob(".model.*"))
    code, out = finished(snakemake(killed, target))
    assert code == 0, out[-2000:]
    assert "removed the Snakemake lock left by a killed run of this workflow" in out
    assert not list(base.glob(".model.*"))  # removed by the rerun's base_model job
    assert "left by a killed write of" in (killed / "logs" / "smoke" / "tiny-llama" / "base_model.log").read_text()
    cfg, reference = load_config(SMOKE), tmp_path / "reference"  # the same stages, never killed
    data = {name: reference / f"{name}.jsonl" for name in cfg.dataset_names()}
    for name, out in data.items():
        stages.prepare_dataset(cfg, name, out)
    stages.build_tokenizer(list(data.values()), reference / "tokenizer")
    stages.base_model(cfg, "tiny-llama", reference / "model", data[cfg.train_set], reference / "tokenizer")
    assert same_weights(base / "model", reference / "model")


def test_a_lock_that_a_live_run_may_hold_is_kept(tmp_path):
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.output.lock").write_text("results/smoke/data/arith.jsonl\n")  # as Snakemake writes it
    runs = tmp_path / ".snakemake" / RUNS_DIR
    runs.mkdir()
    from harness.liveness import this_process

    (runs / "live.json").write_text(json.dumps(this_process()))  # this test process: alive
    code, out = finished(snakemake(tmp_path, "results/smoke/data/arith.jsonl"))
    assert code != 0 and "Directory cannot be locked" in out and "--unlock" in out
    assert (locks / "0.output.lock").exists()


def test_an_output_a_kill_left_marked_incomplete_is_rebuilt_by_the_plain_rerun(tmp_path):
    """Killed just as a job finished: its (atomically written, whole) output stays marked
    incomplete, which stops a plain rerun unless the workflow profile asks to rebuild it."""
    from base64 import urlsafe_b64encode

    target = "results/smoke/data/arith.jsonl"
    code, out = finished(snakemake(tmp_path, target))
    assert code == 0, out[-2000:]
    marker = tmp_path / ".snakemake" / "incomplete" / urlsafe_b64encode(target.encode()).decode()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"external_jobid": None}))  # as Snakemake marks a running job's output
    expected = (tmp_path / target).read_text()
    code, out = finished(snakemake(tmp_path, target))
    assert code == 0 and "IncompleteFilesException" not in out, out[-2000:]
    assert (tmp_path / target).read_text() == expected and not marker.exists()



def test_a_run_without_the_triggers_the_workflow_relies_on_is_told_what_it_loses(tmp_path):
    """`--rerun-triggers mtime` would leave new methods out of existing tables: the run says so
    at its start, dry run included; Snakemake's default triggers draw no such note."""
    code, out = finished(snakemake(tmp_path, "-n", "--rerun-triggers", "mtime"))
    assert code == 0, out[-2000:]
    assert ("harness: this run's rerun triggers leave out params, input, code: without 'params', a method whose settings"
            in out) and "methods or seeds added to a config stay out of the tables" in out
    code, out = finished(snakemake(tmp_path, "-n", "--rerun-triggers", "mtime", "params", "input", "code"))
    assert code == 0 and "rerun triggers" not in out
    assert dropped_triggers_note(["MTIME", "PARAMS", "INPUT", "SOFTWARE_ENV"]) == (
        "this run's rerun triggers leave out code: without 'code', a changed job script does not rerun its jobs. "
        "Drop --rerun-triggers (Snakemake's default is every trigger) unless that is meant.")
