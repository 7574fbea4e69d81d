"""lm-eval integration: the `tempo-harness` model and the tempo_* tasks (harness/lm_eval_tasks).

The model generates with a trained checkpoint under its method's inference-time temperature
policy (or the config's fixed evaluation temperature), through the same sampler as training
and the native evaluation; the tasks keep all k samples per problem and score them with the
harness's scorers. Two ways in:

  harness eval ... with `eval.engine: lm_eval` in the config (or --set eval.engine=lm_eval):
      writes the same metrics and generations files as the native engine;
  python -m harness.lm_eval_model run --model tempo-harness \\
      --model_args config=configs/tiny.yaml,model=tiny-llama,method=tampo,seed=0 \\
      --include_path harness/lm_eval_tasks --tasks tempo_arith \\
      --metadata '{"data": "results/tiny/data/arith.jsonl"}' --log_samples --output_path out/
      (the `lm_eval` command line with this model registered: lm-eval has no plugin mechanism)
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

import torch
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from harness.config import ExperimentConfig, load_config
from harness.distributed import resolve_device
from harness.evaluate import Generation, eval_policy, generate, sample_row
from harness.modeling import load_policy
from harness.paths import model_dir as default_model_dir
from harness.prompts import prompt_ids
from harness.sampling import build_sampler

TASK_DIR = Path(__file__).parent / "lm_eval_tasks"


@register_model("tempo-harness")
class TempoLM(LM):
    """model_args: config (YAML path), model, method, seed; optional model_dir (default: the
    pipeline's path for that cell) and sampling_seed (default: derived from seed)."""

    def __init__(
        self, config: str | ExperimentConfig, model: str, method: str, seed: int | str,
        model_dir: str | None = None, sampling_seed: int | str | None = None, **_: Any,
    ):
        super().__init__()
        cfg = config if isinstance(config, ExperimentConfig) else load_config(config)
        seed = int(seed)
        path = Path(model_dir) if model_dir else default_model_dir(cfg.name, model, method, seed)
        self.model, self.tokenizer = load_policy(path, resolve_device(cfg.eval.device, "eval.device"))
        hidden, device = self.model.config.hidden_size, self.model.device
        self.policy = lambda: eval_policy(cfg, method, path, hidden, seed, device)
        self.prompt_format = cfg.models[model].prompt_format
        self.batch_size = cfg.eval.batch_size
        generator = torch.Generator(device="cpu").manual_seed(int(sampling_seed) if sampling_seed is not None else seed)
        self.sampler = build_sampler(cfg.eval.sampler, self.model, path, self.tokenizer, generator, cfg.eval.vllm)
        # (context, text) -> its generations in sampling order: samples with equal texts may differ
        # in what else they record (e.g. an empty text from eos alone or from a special token + eos)
        self.generations: dict[tuple[str, str], deque[Generation]] = defaultdict(deque)

    def generate_until(self, requests: list, disable_tqdm: bool = False) -> list[str]:
        """Sample one response per request (lm-eval repeats a request k times for k samples),
        cut at the first `until` string; requests with equal settings share batches."""
        out: list[str | None] = [None] * len(requests)
        by_settings: dict[str, list[int]] = {}
        for i, request in enumerate(requests):
            by_settings.setdefault(json.dumps(request.args[1], sort_keys=True, default=str), []).append(i)
        for key, rows in by_settings.items():
            settings = json.loads(key)
            contexts = [requests[i].args[0] for i in rows]
            prompts = [prompt_ids(self.tokenizer, c, self.prompt_format) for c in contexts]
            generations = generate(
                self.sampler, self.tokenizer, self.policy, prompts, int(settings.get("max_gen_toks", 256)), self.batch_size
            )
            for i, context, generation in zip(rows, contexts, generations):
                text = truncate(generation.text, settings.get("until") or [])
                self.generations[(context, text)].append(generation)
                out[i] = text
        return out

    def loglikelihood(self, requests: list) -> list:
        raise NotImplementedError("tempo-harness evaluates generation tasks only (output_type: generate_until)")

    def loglikelihood_rolling(self, requests: list) -> list:
        raise NotImplementedError("tempo-harness evaluates generation tasks only (output_type: generate_until)")


def truncate(text: str, until: list[str]) -> str:
    """`text` up to the first occurrence of any stop string."""
    cut = min((text.find(s) for s in until if s and s in text), default=len(text))
    return text[:cut]


def lm_eval_rows(
    cfg: ExperimentConfig, model: str, method: str, seed: int, benchmark: str, model_dir: Path, data_path: Path,
    sampling_seed: int,
) -> tuple[list[dict], dict[str, float]]:
    """Evaluate one cell through lm-eval: the per-sample rows (as the native engine writes
    them, re-scored by the same scorers) and lm-eval's own aggregate metrics."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from harness.benchmarks.scoring import verdicts

    lm = TempoLM(cfg, model, method, seed, str(model_dir), sampling_seed)
    name, fmt = f"tempo_{benchmark}", cfg.models[model].prompt_format
    manager = TaskManager(include_path=str(TASK_DIR), metadata={"data": str(data_path), "prompt_format": fmt})
    task = manager.load(name)["tasks"][name]
    task.set_config(key="repeats", value=cfg.eval.n_samples)
    task.set_config(key="generation_kwargs", value={"until": [], "max_gen_toks": cfg.eval_max_new_tokens(benchmark)})
    out = simple_evaluate(model=lm, tasks=[task], task_manager=manager, limit=cfg.eval.limit, log_samples=True)
    rows: list[dict] = []
    for sample in sorted(out["samples"][name], key=lambda s: s["doc_id"]):
        record, (texts,) = json.loads(sample["doc"]["record"]), sample["filtered_resps"]  # one request, k texts
        context = sample["arguments"][0][0]
        scores = verdicts([record] * len(texts), texts, cfg.eval.score_timeout, cfg.eval.sandbox)
        rows += [sample_row(record, s, lm.generations[(context, t)].popleft(), v) for s, (t, v) in enumerate(zip(texts, scores))]
    aggregate = {k: v for k, v in out["results"][name].items() if isinstance(v, float)}
    return rows, aggregate


if __name__ == "__main__":
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()
