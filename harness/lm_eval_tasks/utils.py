"""lm-eval hooks of the tempo_* tasks: records in, all samples kept, the harness's scorers.

Metadata (TaskManager(metadata=...) or `lm_eval --metadata '{...}'`):
  data:          a prepared records JSONL, e.g. results/tiny/data/arith.jsonl
  prompt_format: chat (default) or plain; the model wraps chat prompts in its chat template
"""

from __future__ import annotations

from typing import Any

import datasets

from harness.benchmarks.scoring import score
from harness.io import read_jsonl
from harness.metrics import pass_at_k

SCORE_TIMEOUT = 10.0  # seconds per math-verify check or program run, as EvalConfig.score_timeout


def load_records(data: str, prompt_format: str = "chat", **_: Any) -> datasets.DatasetDict:
    """The prepared records as the test split, each with the prompt text the model receives.
    Nested fields are stored as JSON text so that every benchmark's records fit one schema."""
    import json

    rows = [
        {"id": r["id"], "text": r["prompt"][prompt_format], "record": json.dumps(r)} for r in read_jsonl(data)
    ]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def keep_all(resps: list[list[str]], docs: list[dict]) -> list[list[str]]:
    """lm-eval's default filter keeps the first of the `repeats` samples; keep them all."""
    return resps


def process_results(doc: dict, results: list[list[str]]) -> dict[str, float]:
    """Score the n samples of one problem: Avg@n, Pass@1 and Pass@n (unbiased estimator)."""
    import json

    (samples,) = results
    record = json.loads(doc["record"])
    correct = int(sum(score([record] * len(samples), samples, timeout=SCORE_TIMEOUT)))
    n = len(samples)
    return {"avg_at_n": correct / n, "pass_at_1": pass_at_k(n, correct, 1), "pass_at_n": pass_at_k(n, correct, n)}
