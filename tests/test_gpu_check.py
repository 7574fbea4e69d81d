"""The prepared GPU check (scripts/gpu_check.py) runs end to end on the CPU at toy sizes, so it is
ready for the first GPU that comes; and it runs every device test there is."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from harness import readme
from harness.io import git_revision
from scripts.gpu_check import DEVICE_TESTS, METHODS

ROOT = Path(__file__).resolve().parent.parent


def test_the_check_runs_every_step_on_the_cpu(tmp_path):
    one_test = "tests/test_devices.py::test_evaluation_of_a_few_problems"  # the suite runs the rest itself
    done = subprocess.run([sys.executable, "scripts/gpu_check.py", "--device", "cpu", "--small", "--out", str(tmp_path),
                           "--tests", one_test], cwd=ROOT, capture_output=True, text=True, timeout=600)
    record = json.loads((tmp_path / "gpu_check.json").read_text())
    assert done.returncode == 0 and record["ok"], done.stdout[-3000:]
    steps = record["steps"]
    assert list(steps) == ["install", "tests", "train", "fsdp", "scale"]
    assert steps["tests"]["tests"] == 1 and steps["tests"]["failures"] == 0
    assert all(steps["train"][m]["steps"] == 3 and steps["train"][m]["logprob_mismatch_max"] < 1e-4 for m in METHODS)
    assert steps["fsdp"]["steps"] == 3  # torchrun, one process, FSDP2 on gloo
    assert steps["scale"]["sampler_tokens_per_s"] > 0 and steps["scale"]["train_step_256_tokens_chunk_64_s"] > 0
    assert steps["scale"]["generate_tokens_per_s"] > 0
    log = (tmp_path / "gpu_check.log").read_text()
    assert "== scale" in log and "Self CPU time total" in log  # the sampler's profile

    kept = readme.keep_gpu_check(tmp_path, tmp_path / "reference")  # make readme-numbers' copy, and its figures
    assert sorted(p.name for p in kept.iterdir()) == sorted(readme.GPU_CHECK_FILES)
    figures = readme.gpu_figures(json.loads((kept / "gpu_check.json").read_text()))
    assert figures["device tests on CUDA (`pytest -m device -k cuda`)"] == "1 of 1 passed"
    assert figures["every step passed"] == "yes" and figures["GPU"] == "none: run on the cpu"
    assert figures["revision"] == readme.revision(git_revision())  # the code that ran, where git can tell
    assert [k for k in figures if "GRPO steps of" in k] == [f"3 GRPO steps of {m}, tiny setting: s/step (max log-prob mismatch)"
                                                           for m in METHODS]
    stale = tmp_path / "reference" / readme.GPU_CHECK / f"2026-01-01_000000{readme.PARTIAL}"  # a copy killed half-way
    stale.mkdir()
    (stale / "gpu_check.json").write_text("{")
    table = readme.gpu_check(tmp_path / "reference")
    assert [c.strip() for c in table.splitlines()[0].split("|")[1:-1]] == ["figure", "run 1"]
    assert "3 GRPO steps of tampo" in table


def test_a_failed_step_shows_its_error_in_place_of_its_figures():
    record = {"started": "2026-12-04 15:56:33", "device": "cuda", "gpu": "NVIDIA H200", "gpu_memory_gib": 139.8,
              "torch": "2.11.0", "cuda": "13.0", "transformers": "5.17.0", "python": "3.12.3", "installed": [], "ok": False,
              "steps": {"tests": {"ok": True, "tests": 15, "failures": 1, "errors": 1},
                        "train": {"ok": False, "error": "RuntimeError: boom"},
                        "fsdp": {"ok": True, "seconds_per_step": 0.41, "logprob_mismatch_max": 1.07e-05},
                        "scale": {"ok": False, "error": "OutOfMemoryError: CUDA"}}}
    figures = readme.gpu_figures(record)
    assert figures["device tests on CUDA (`pytest -m device -k cuda`)"] == "13 of 15 passed"
    assert figures["the fixed-T run under torchrun, 1 process, FSDP2 on NCCL: s/step (mismatch)"] == "0.410 (1.1e-05)"
    assert figures["0.5B Qwen2-shaped model, 64 rows x 512 new tokens (eos suppressed): our sampler, tokens/s"] == \
        "failed: OutOfMemoryError: CUDA"
    assert figures["GRPO steps, tiny setting"] == "failed: RuntimeError: boom"
    assert not any("GRPO steps of" in k for k in figures) and figures["every step passed"] == "no"
    record["steps"]["fsdp"] |= {"ok": False, "logprob_mismatch_max": 3e-4}  # ran, but over its bar: figures and why
    assert readme.gpu_figures(record)["the fixed-T run under torchrun, 1 process, FSDP2 on NCCL: s/step (mismatch)"] == \
        "0.410 (3.0e-04): outside the step's bar"


def test_every_module_with_device_tests_is_in_the_check():
    with_device = sorted(
        f"tests/{path.name}" for path in (ROOT / "tests").glob("test_*.py")
        if any(isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and "device" in [a.arg for a in node.args.args]
               for node in ast.walk(ast.parse(path.read_text())))
    )
    assert with_device == sorted(DEVICE_TESTS)


def probe_wheel(directory: Path) -> None:
    """A minimal pure-Python wheel of a package no machine has."""
    import zipfile

    info = "gpu_check_probe-0.1.dist-info"
    files = {"gpu_check_probe/__init__.py": "ANSWER = 42\n",
             f"{info}/METADATA": "Metadata-Version: 2.1\nName: gpu_check_probe\nVersion: 0.1\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(directory / "gpu_check_probe-0.1-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)


def test_install_adds_only_what_is_missing_offline_beside_the_machines_packages(tmp_path, monkeypatch):
    import scripts.gpu_check as gpu_check

    wheels = tmp_path / "wheels" / "gpu"
    wheels.mkdir(parents=True)
    probe_wheel(wheels)
    monkeypatch.setattr(gpu_check, "WHEELS", wheels)
    monkeypatch.setattr(gpu_check, "NEEDED", {"gpu_check_probe": "gpu_check_probe", "json": "not-downloaded"})
    monkeypatch.setattr(sys, "path", list(sys.path))
    check = gpu_check.Check(tmp_path / "out", "cpu", small=True)
    facts = gpu_check.install(check)
    assert facts["installed"] == ["gpu_check_probe"]  # json is there already: not asked for, so no wheel needed
    assert (wheels.parent / f"site-py{sys.version_info.major}{sys.version_info.minor}" / "gpu_check_probe").is_dir()
    assert __import__("gpu_check_probe").ANSWER == 42


def test_install_without_the_wheels_names_the_command_that_makes_them(tmp_path, monkeypatch):
    import pytest

    import scripts.gpu_check as gpu_check

    monkeypatch.setattr(gpu_check, "WHEELS", tmp_path / "nowhere")
    monkeypatch.setattr(gpu_check, "NEEDED", {"gpu_check_probe_absent": "gpu_check_probe_absent"})
    with pytest.raises(FileNotFoundError, match="make gpu-wheels"):
        gpu_check.install(gpu_check.Check(tmp_path / "out", "cpu", small=True))
