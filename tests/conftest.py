"""Shared fixtures: a tiny random-init policy built in seconds (no pre-training)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import numerics
from harness.benchmarks import get_spec
from harness.benchmarks.load import to_records
from harness.data.arithmetic import ArithConfig, generate_splits
from harness.data.tokenizer import build_tokenizer
from harness.modeling import build_tiny_llama

numerics.configure(threads=1)  # as every job; the pinned kernels (or HARNESS_NUMERICS=native, by choice)

import torch  # noqa: E402  (after harness: the pinned numerics are set when harness is imported)

DEVICES = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """Every device this machine has: the CPU always, CUDA where torch sees a GPU. Tests that
    take it are marked `device`; the prepared GPU check runs them with `-m device -k cuda`."""
    return request.param


# The modules whose tests run pipelines, trainings or subprocesses of many seconds each
# (`pytest --durations=40`): they are collected first, so that under `-n 2` pytest-xdist's work
# stealing (pyproject.toml) shares them out between the workers instead of leaving one worker on
# long tests while the other has run out. Whole modules, so module fixtures are built once.
HEAVY_MODULES = ("test_countdown_pipeline", "test_pipeline", "test_reliability", "test_benchmark_scripts",
                 "test_gpu_check", "test_drift", "test_distributed", "test_codejudge", "test_lm_eval", "test_chunked")
if stale := [m for m in HEAVY_MODULES if not (Path(__file__).parent / f"{m}.py").exists()]:
    raise pytest.UsageError(f"tests/conftest.py: HEAVY_MODULES names test modules that no longer exist: {stale}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "device" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.device)
    items.sort(key=lambda item: Path(item.nodeid.split("::")[0]).stem not in HEAVY_MODULES)  # stable: heavy first


@pytest.fixture(scope="session")
def splits() -> dict[str, list[dict]]:
    return generate_splits(0, ArithConfig(levels=[1, 2, 3], test_per_level=20, train_size=300, first_max=50, term_max=9))


@pytest.fixture(scope="session")
def tiny_policy_dir(tmp_path_factory: pytest.TempPathFactory, splits: dict[str, list[dict]]) -> Path:
    """A saved random-init Llama (hidden 32) and tokenizer, loadable by load_policy."""
    out = tmp_path_factory.mktemp("policy")
    corpus = [f"{r['problem']} {r['solution']}" for s in splits.values() for r in s]
    tokenizer = build_tokenizer(corpus)
    model = build_tiny_llama(tokenizer, 32, 2, 2, 1, 64, 128, seed=0)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def toy_records() -> list[dict]:
    """Two one-step problems whose answers a briefly pre-trained model confuses: rollouts of
    either prompt are right about half the time, so GRPO groups carry signal."""
    rows = [
        {"id": f"toy-{a}", "problem": f"{a}+0=?", "solution": f"\\boxed{{{a}}}", "answer": str(a), "level": 1}
        for a in (1, 2)
    ]
    return to_records(get_spec("arith"), rows, seed=0, source="toy rows")


@pytest.fixture(scope="session")
def toy_policy_dir(tmp_path_factory: pytest.TempPathFactory, tiny_policy_dir: Path, toy_records: list[dict]) -> Path:
    """The tiny policy after a few SFT steps that teach the answer format, not the answers."""
    from harness.config import PretrainConfig
    from harness.modeling import load_policy
    from harness.pretrain import sft

    out = tmp_path_factory.mktemp("toy-policy")
    model, tok = load_policy(tiny_policy_dir)
    sft(model, tok, toy_records, PretrainConfig(steps=40, batch_size=8, lr=1e-2, warmup_ratio=0.0), out / "log.jsonl")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
