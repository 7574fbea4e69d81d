"""Rollout throughput: the torch sampler against vLLM on the same model, prompts and
temperatures (run: `make bench-vllm`, in the vLLM environment; without vLLM only the torch
rows are printed). Generated tokens (eos included) per second of wall time, median of repeats
after a warm-up; both samplers stop rows at eos, so both count the tokens they really made.

Rows: one temperature per row (request temperature in vLLM) and EAD's per-token schedule
(vLLM: the logits processor). Models: the tiny Llama of the default pipeline and, if the
SmolLM2 pipeline has run, SmolLM2-135M (not with --smoke).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform

# first: _common imports harness, which pins the numerics before torch loads
from _common import REPO, experiment, parse_args, policy_dir, timed

# isort: split

import torch

from harness.config import VllmConfig
from harness.modeling import load_policy
from harness.prompts import prompt_ids
from harness.sampling.torch_sampler import TorchSampler
from harness.temperature.base import ControllerContext, build_controller, constant

SMOLLM2 = REPO / "results" / "smollm2" / "smollm2-135m" / "base" / "model"
PROBLEMS = ["32+0-26-0+9=?", "7+8=?", "12-5+7=?", "40+2-9+1=?"]


def policies(hidden: int) -> dict[str, object]:
    ead = build_controller({"controller": "ead", "fixed_tokens": 2, "d0": 30.0}, ControllerContext(10, hidden, 0))
    return {"T = 1.0 (per row)": lambda: constant(1.0), "EAD (per token)": lambda: ead.policy(0, 8)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parse_args(parser, {"rows": 4, "tokens": 8, "repeats": 1})
    models = {"tiny-llama (0.4M)": policy_dir(experiment(args.smoke))}
    if SMOLLM2.exists() and not args.smoke:
        models["SmolLM2-135M"] = SMOLLM2
    has_vllm = importlib.util.find_spec("vllm") is not None
    print(f"\n### Rollout throughput ({args.rows} rows, up to {args.tokens} new tokens; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} thread(s))\n")
    print("| model | temperatures | sampler | tokens | seconds | tokens/s |\n|---|---|---|---|---|---|")
    engines = []  # kept alive: a collected in-process vLLM engine tears down the parallel state the next one uses
    for name, path in models.items():
        model, tok = load_policy(path)
        prompts = [prompt_ids(tok, PROBLEMS[i % len(PROBLEMS)]) for i in range(args.rows)]
        samplers = {"torch": TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(0))}
        if has_vllm:
            from harness.sampling.vllm_sampler import VllmSampler

            engine = VllmConfig(dtype="float32", max_model_len=min(model.config.max_position_embeddings, 2048))
            samplers["vLLM"] = VllmSampler(path, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(0), engine)
            engines.append(samplers["vLLM"])
        for label, policy in policies(model.config.hidden_size).items():
            for kind, sampler in samplers.items():
                made = []
                seconds = timed(lambda: made.append(int(sampler.generate(prompts, policy(), args.tokens).mask.sum())), args.repeats)
                print(f"| {name} | {label} | {kind} | {made[-1]} | {seconds:.3f} | {made[-1] / seconds:,.0f} |")
    if not has_vllm:
        print("\nvLLM is not installed in this environment: `make bench-vllm` runs this in .venv-vllm.")


if __name__ == "__main__":
    main()
