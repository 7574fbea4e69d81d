"""Cross-machine drift check: a small fixed computation through the real stages (SFT, GRPO with
four kinds of temperature method, evaluation) whose numbers must equal committed values exactly.

CI runs on whatever machine a submission gets, so this compares each machine's bits with the
ones committed from another: under the pinned numerics (harness/numerics.py) they are equal on
any x86-64 CPU with AVX2 and FMA. The same numbers must come out when the libraries that pick
their code by the CPU are made to pick other code (MKL's branch, numpy's and glibc's AVX-512
loops): that shows that no result depends on them. A deliberate change that moves them (a new sampler, a new loss) updates
the committed values, and its commit message says why:

    HARNESS_UPDATE_DRIFT=1 .venv/bin/pytest tests/test_drift.py
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from harness import numerics, stages
from harness.config import load_config
from harness.io import read_jsonl
from harness.paths import model_dir, path

EXPECTED = Path(__file__).parent / "data" / "drift.json"
CONFIG = {
    "name": "drift",
    "seeds": [0],
    "data": {"seed": 0, "arith": {"levels": [1, 2], "test_per_level": 10, "train_size": 400, "first_max": 9, "term_max": 9,
                                  "direct_rate": 0.5}},
    "models": {"tiny-llama": {
        "tiny": {"hidden_size": 128, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2, "intermediate_size": 384},
        "pretrain": {"steps": 60, "batch_size": 32, "lr": 3e-3, "ema_decay": 0.9},
    }},
    "train": {"steps": 3, "prompts_per_step": 4, "group_size": 4, "max_new_tokens": 24, "lr": 1e-3, "save_every": 100},
    "methods": {
        "grpo-t1.0": {"controller": "fixed", "temperature": 1.0},  # per step
        "tampo": {"controller": "tampo"},  # learned, per step
        "multi-rollout": {"controller": "multi_rollout", "base": 1.0, "delta": 0.1},  # per rollout
        "ead": {"controller": "ead", "fixed_tokens": 2, "d0": 30, "d_alpha": 0.5},  # per token
        "introllm": {"controller": "introllm", "lr": 5e-3},  # learned, per token, reads hidden states
    },
    "eval": {"benchmarks": ["arith"], "n_samples": 4, "ks": [1, 4], "max_new_tokens": 24},
}


def weights_digest(directory: Path) -> str:
    tensors = load_file(directory / "model.safetensors")
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode() + tensors[name].numpy().tobytes())
    return digest.hexdigest()[:16]


def run_drift_computation(root: Path) -> dict:
    """Every stage of one tiny experiment in `root`; its numbers (no timings)."""
    os.chdir(root)  # the stages write under results/{exp}, relative paths
    cfg = load_config(CONFIG)
    exp, model = cfg.name, "tiny-llama"
    for name in cfg.dataset_names():
        stages.prepare_dataset(cfg, name, path("dataset", exp=exp, dataset=name))
    stages.build_tokenizer([path("dataset", exp=exp, dataset=d) for d in cfg.dataset_names()], path("tokenizer", exp=exp))
    train_data = path("dataset", exp=exp, dataset=cfg.train_set)
    base = path("base_model", exp=exp, model=model)
    stages.base_model(cfg, model, base, train_data, path("tokenizer", exp=exp))
    out = {"pretrain": {"final": json.loads((base / "run.json").read_text())["final"], "weights": weights_digest(base)}}
    for method in ["base", *cfg.methods]:
        cell = dict(exp=exp, model=model, method=method, seed=0)
        if method != "base":
            stages.train_cell(cfg, model, method, 0, base, train_data, path("train_dir", **cell), path("model", **cell))
        policy = model_dir(exp, model, method, 0)
        summary = stages.evaluate_cell(cfg, model, method, 0, "arith", policy, path("dataset", exp=exp, dataset="arith"),
                                       path("eval", **cell, benchmark="arith"), path("generations", **cell, benchmark="arith"))
        texts = "\n".join(row["response"] for row in read_jsonl(path("generations", **cell, benchmark="arith")))
        out[method] = {"eval": summary, "generations": hashlib.sha256(texts.encode()).hexdigest()[:16]}
        if method != "base":
            steps = read_jsonl(policy / "train_metrics.jsonl")
            out[method] |= {"weights": weights_digest(policy),
                            "train": [{k: v for k, v in row.items() if not k.startswith("time/")} for row in steps]}
    return json.loads(json.dumps(out))  # as stored: tuples become lists


def differences(expected, actual, where: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        keys = sorted(set(expected) | set(actual))
        return [d for k in keys for d in differences(expected.get(k), actual.get(k), f"{where}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in differences(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: committed {expected!r}, here {actual!r}"]


@pytest.mark.skipif(numerics.mode() != "pinned", reason="the committed values hold under pinned numerics only")
def test_numbers_equal_the_committed_ones_exactly(tmp_path):
    here = os.getcwd()
    try:
        actual = run_drift_computation(tmp_path)
    finally:
        os.chdir(here)
    assert actual["grpo-t1.0"]["train"][0]["zero_advantage_groups"] < 1, "the drift run must carry a learning signal"
    if os.environ.get("HARNESS_UPDATE_DRIFT") == "1":
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text(json.dumps(actual, indent=1) + "\n")
    diffs = differences(json.loads(EXPECTED.read_text()), actual)
    cpu = numerics.cpu()
    assert not diffs, (
        f"{len(diffs)} numbers differ from tests/data/drift.json on this machine ({cpu['model']}, {cpu['flags']}):\n  "
        + "\n  ".join(diffs[:25])
        + "\nIf a deliberate change moved them, update the file (HARNESS_UPDATE_DRIFT=1 .venv/bin/pytest "
        "tests/test_drift.py) and say why in the commit; otherwise the numerics are not pinned here."
    )


DISPATCH_VARIANTS = {  # each moves its library's own results on a CPU with AVX-512 (measured on an Intel Xeon)
    "MKL at its SSE4.2 branch": {"MKL_CBWR": "SSE4_2"},
    "MKL at its AVX2 branch": {"MKL_CBWR": "AVX2"},
    "numpy and glibc without AVX-512": {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
                                        "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX512CD"},
}


@pytest.mark.skipif(numerics.mode() != "pinned", reason="the committed values hold under pinned numerics only")
@pytest.mark.parametrize("variant", sorted(DISPATCH_VARIANTS))
def test_numbers_do_not_depend_on_the_code_libraries_pick_by_cpu(variant, tmp_path):
    code = ("import json, sys; from pathlib import Path; from harness import numerics; numerics.configure(threads=1); "
            "from tests.test_drift import run_drift_computation; print(json.dumps(run_drift_computation(Path(sys.argv[1]))))")
    repo = Path(__file__).parent.parent
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=repo,
                         env={**os.environ, **DISPATCH_VARIANTS[variant]})
    assert out.returncode == 0, out.stderr[-3000:]
    diffs = differences(json.loads(EXPECTED.read_text()), json.loads(out.stdout.splitlines()[-1]))
    assert not diffs, f"{len(diffs)} numbers move with {variant}:\n  " + "\n  ".join(diffs[:10])
