#!/usr/bin/env python3
"""The prepared GPU check: one command that proves the harness's CUDA path on a bare GPU machine
(no network, its own Python with torch + CUDA, transformers, numpy, pandas, pytest; no pydantic,
math-verify, pebble, snakemake or vLLM).

    make gpu-wheels              # beforehand, where PyPI is reachable: fills wheels/gpu/ (not in git)
    make gpu-check OUT=DIR       # on the GPU machine: python3 scripts/gpu_check.py --out DIR

Each step runs even if an earlier one failed, and is recorded in DIR/gpu_check.json (plus
everything printed, in DIR/gpu_check.log):
1. install   what the harness needs beyond the machine's packages, from wheels/gpu/, offline;
2. tests     the device-parametrised tests on this device (`pytest -m device -k DEVICE`);
3. train     20 GRPO steps of fixed T, TAMPO, EAD and IntroLLM on the tiny setting;
4. fsdp      fixed-T training again under `torchrun --nproc-per-node 1` with FSDP (NCCL on a GPU);
5. scale     a randomly initialised Qwen2-shaped model (about 0.5B parameters): sampler and stock
             `generate` tokens/s at 64 x 512 new tokens (and a profile of the sampler, in the log),
             a training step and its peak memory at 4k-token responses with and without chunked
             log-probs, and bf16 matrix-product TFLOP/s against the card's peak.
`--device cpu --small` runs every step on the CPU at toy sizes (tests/test_gpu_check.py, in CI).
Numerics are native here (HARNESS_NUMERICS=native): the CPU pin is for the tables, not this check.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the harness from this checkout, without installing it
WHEELS = ROOT / "wheels" / "gpu"
REQUIREMENTS = ROOT / "scripts" / "gpu-requirements.txt"
# import name -> distribution, for what the harness imports beyond a GPU machine's own packages,
# dependencies included (the missing ones alone are installed, so nothing the machine has is shadowed)
NEEDED = {"pydantic": "pydantic", "pydantic_core": "pydantic-core", "annotated_types": "annotated-types",
          "typing_inspection": "typing-inspection", "typing_extensions": "typing-extensions", "pebble": "pebble",
          "math_verify": "math-verify", "latex2sympy2_extended": "latex2sympy2_extended",
          "antlr4": "antlr4-python3-runtime", "sympy": "sympy", "mpmath": "mpmath", "yaml": "pyyaml",
          "safetensors": "safetensors", "tqdm": "tqdm", "tabulate": "tabulate"}
METHODS = ["grpo-t1.0", "tampo", "ead", "introllm"]  # as configs/tiny.yaml defines them
# the test modules with tests on the `device` fixture (tests/test_gpu_check.py keeps this list complete)
DEVICE_TESTS = ["tests/test_devices.py", "tests/test_train.py", "tests/test_chunked.py"]
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0}  # dense


def sizes(small: bool) -> dict[str, Any]:
    if small:
        return {"pretrain_steps": 20, "train_steps": 3, "data": {"arith": {"train_size": 2000, "test_per_level": 10}},
                "train": {"prompts_per_step": 4, "group_size": 4, "max_new_tokens": 16, "micro_batch_size": 16}, "qwen": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, vocab_size=1000), "sample": (8, 32), "response": 256,
                "chunk": 64, "matmul": 512}
    return {"pretrain_steps": 400, "train_steps": 20, "data": {}, "train": {}, "qwen": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
            num_attention_heads=14, num_key_value_heads=2, vocab_size=151_936), "sample": (64, 512), "response": 4096,
            "chunk": 512, "matmul": 8192}


class Check:
    """The record of one run of the check: each step's outcome, figures and duration."""

    def __init__(self, out: Path, device: str, small: bool):
        self.out, self.device, self.small = out, device, small
        out.mkdir(parents=True, exist_ok=True)
        # what `install` adds beside the machine's own packages (not under `out`, whose files are the report)
        self.site = WHEELS.parent / f"site-py{sys.version_info.major}{sys.version_info.minor}"
        if self.site.is_dir():
            sys.path.insert(0, str(self.site))
        self.log = (out / "gpu_check.log").open("a")
        self.record: dict[str, Any] = {"device": device, "small": small, "python": platform.python_version(),
                                       "started": time.strftime("%Y-%m-%d %H:%M:%S"), "steps": {}}

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.log.write(text + "\n")
        self.log.flush()

    def step(self, name: str, fn: Callable[[], dict[str, Any]]) -> None:
        self.say(f"== {name}")
        start = time.perf_counter()
        try:
            result, ok = fn(), True
        except Exception as err:  # recorded, and the next step runs: one run gathers everything
            self.say(traceback.format_exc())
            result, ok = {"error": f"{type(err).__name__}: {err}"}, False
        result = {"ok": ok and result.pop("ok", True), **result, "seconds": round(time.perf_counter() - start, 1)}
        self.record["steps"][name] = result
        self.say(json.dumps(result, indent=1))
        self.save()

    def run(self, cmd: list[str], timeout: float) -> int:
        """A child process with this check's environment; its output goes to the log."""
        self.say("$ " + " ".join(cmd))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(self.site), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        self.say(done.stdout[-20_000:])
        return done.returncode

    def save(self) -> None:
        """The record so far, replaced whole (a killed check leaves the previous step's record)."""
        self.record["ok"] = all(s["ok"] for s in self.record["steps"].values())
        tmp = self.out / "gpu_check.json.tmp"
        tmp.write_text(json.dumps(self.record, indent=1) + "\n")
        os.replace(tmp, self.out / "gpu_check.json")


def install(check: Check) -> dict[str, Any]:
    missing = [dist for module, dist in NEEDED.items() if importlib.util.find_spec(module) is None]
    if missing:
        if not WHEELS.is_dir():
            raise FileNotFoundError(f"{WHEELS} is missing and {missing} are not installed: run `make gpu-wheels` "
                                    "where PyPI is reachable and copy wheels/gpu/ along")
        code = check.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(WHEELS),
                          "--no-deps", "--target", str(check.site), *missing], timeout=300)
        if code:
            raise RuntimeError(f"pip install from {WHEELS} failed ({code})")
        sys.path.insert(0, str(check.site))
        importlib.invalidate_caches()
        still = [module for module in NEEDED if importlib.util.find_spec(module) is None]
        if still:
            raise ImportError(f"still missing after installing from {WHEELS}: {still}")
    import torch
    import transformers

    from harness.io import git_revision

    facts = {"installed": missing, "git_revision": git_revision(), "torch": torch.__version__, "transformers": transformers.__version__,
             "cuda": torch.version.cuda}
    if check.device == "cuda":
        facts |= {"gpu": torch.cuda.get_device_name(0), "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)}
    check.record |= facts
    return facts


def device_tests(check: Check, files: list[str]) -> dict[str, Any]:
    import xml.etree.ElementTree as ET

    report = check.out / "device-tests.xml"
    # addopts replaced: the project's `--dist` needs pytest-xdist, which a GPU machine may lack
    code = check.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra", "-m", "device", "-k", check.device,
                      f"--junitxml={report}", *files], timeout=420)
    suite = ET.parse(report).getroot().find("testsuite") if report.exists() else None
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")} if suite is not None else {}
    return {"ok": code == 0 and counts.get("tests", 0) > 0, "pytest_exit": code, **counts}


def tiny_setting(check: Check, steps: dict[str, Any]):
    """configs/tiny.yaml with a short pre-training, its dataset and base model built under OUT."""
    from harness.config import deep_merge, load_config
    from harness.config_file import read_config_file
    from harness.stages import build_tokenizer, prepare_dataset, pretrain

    overrides = {"models": {"tiny-llama": {"pretrain": {"steps": steps["pretrain_steps"]}}}, "data": steps["data"]}
    cfg = load_config(deep_merge(read_config_file(ROOT / "configs" / "tiny.yaml"), overrides))
    work = check.out / "tiny"
    data, base = work / "arith-train.jsonl", work / "base"
    if not base.exists():
        work.mkdir(parents=True, exist_ok=True)
        prepare_dataset(cfg, cfg.train_set, data)
        build_tokenizer([data], work / "tokenizer")
        pretrain(cfg, "tiny-llama", data, work / "tokenizer", base)
    return cfg, data, base


def train_config(cfg, method: str, device: str, steps: dict[str, Any]):
    """The tiny setting's training config of `method`, for this check's steps and device."""
    n = steps["train_steps"]
    return cfg.train_config(method).model_copy(update={"steps": n, "device": device, "save_every": n, **steps["train"]})


def train_methods(check: Check, steps: dict[str, Any]) -> dict[str, Any]:
    from harness.io import read_jsonl
    from harness.train import train

    cfg, data, base = tiny_setting(check, steps)
    out: dict[str, Any] = {}
    for method in METHODS:
        tcfg = train_config(cfg, method, check.device, steps)
        run_dir = check.out / "train" / method
        train(base, read_jsonl(data), cfg.controller_spec(method), tcfg, 0, run_dir, run_dir / "model", {})
        rows = read_jsonl(run_dir / "metrics.jsonl")
        mismatch = max(r.get("logprob_mismatch", 0.0) for r in rows)
        out[method] = {"steps": len(rows), "reward_first": rows[0]["reward"], "reward_last": rows[-1]["reward"],
                       "logprob_mismatch_max": mismatch, "seconds_per_step": sum(r["time/step"] for r in rows) / len(rows)}
    return {"ok": all(v["steps"] == steps["train_steps"] and v["logprob_mismatch_max"] < 1e-4 for v in out.values()), **out}


def fsdp(check: Check, steps: dict[str, Any]) -> dict[str, Any]:
    """The worker below, launched by torchrun with one process: FSDP2 on NCCL (gloo on the CPU)."""
    tiny_setting(check, steps)  # built here, so the worker only trains
    code = check.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "1", "--standalone", __file__,
                      "--worker", "fsdp", "--device", check.device, "--out", str(check.out)]
                     + (["--small"] if check.small else []), timeout=300)
    from harness.io import read_jsonl

    rows = read_jsonl(check.out / "fsdp" / "metrics.jsonl") if (check.out / "fsdp" / "metrics.jsonl").exists() else []
    mismatch = max((r["logprob_mismatch"] for r in rows), default=None)
    return {"ok": code == 0 and len(rows) == steps["train_steps"] and mismatch is not None and mismatch < 1e-4,
            "exit": code, "steps": len(rows), "logprob_mismatch_max": mismatch,
            "seconds_per_step": sum(r["time/step"] for r in rows) / len(rows) if rows else None}


def fsdp_worker(check: Check, steps: dict[str, Any]) -> None:
    from harness.io import read_jsonl
    from harness.train import train

    cfg, data, base = tiny_setting(check, steps)
    method = METHODS[0]
    tcfg = train_config(cfg, method, check.device, steps).model_copy(update={"parallel": "fsdp"})
    run_dir = check.out / "fsdp"
    train(base, read_jsonl(data), cfg.controller_spec(method), tcfg, 0, run_dir, run_dir / "model", {})


def synchronize(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def profile(fn: Callable[[], None], cuda: bool) -> str:
    """torch.profiler's busiest operators of one call of fn, by their own CPU time and by GPU time."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as profiler

    with profiler(activities=[ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if cuda else [])]) as prof:
        fn()
    table = prof.key_averages()
    tables = [table.table(sort_by="self_cpu_time_total", row_limit=15)]
    if cuda:
        tables.append(table.table(sort_by="self_cuda_time_total", row_limit=15))
    return "\n".join(tables)


def scale(check: Check, steps: dict[str, Any]) -> dict[str, Any]:
    """Figures on a random-init Qwen2-shaped model (no download): sampler, training step, matmul."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from harness.config import TrainConfig
    from harness.grpo import ResponseLogprobs, policy_update
    from harness.rollout import Rollout
    from harness.sampling.torch_sampler import TorchSampler
    from harness.temperature.base import constant

    device, cuda = torch.device(check.device), check.device == "cuda"
    config = Qwen2Config(**steps["qwen"], max_position_embeddings=8192, tie_word_embeddings=True)
    torch.manual_seed(0)
    with device:  # initialised where it runs: no 2 GB copy
        model = Qwen2ForCausalLM(config)
    out: dict[str, Any] = {"parameters": sum(p.numel() for p in model.parameters())}

    rows, new = steps["sample"]
    sampler = TorchSampler(model.eval(), eos_id=-1, pad_id=0, generator=torch.Generator(device="cpu").manual_seed(0))
    prompts = [list(range(1, 33))] * rows
    ids = torch.tensor(prompts, device=device)

    def ours(n: int) -> None:
        sampler.generate(prompts, constant(1.0, device), n)

    def stock(n: int) -> None:  # transformers' generate, same model, prompts and length (no eos: none is set)
        model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                       max_new_tokens=n, min_new_tokens=n, pad_token_id=0)

    with torch.autocast(device.type, dtype=torch.bfloat16):
        for name, fn in (("sampler", ours), ("generate", stock)):
            fn(4)  # warm-up
            synchronize(check.device)
            start = time.perf_counter()
            fn(new)
            synchronize(check.device)
            out[f"{name}_tokens_per_s"] = round(rows * new / (time.perf_counter() - start), 1)
        check.say(profile(lambda: ours(32), cuda))
    out["sampler_shape"] = f"{rows} x {new} new tokens, fp32 weights under bf16 autocast, eos suppressed"

    length, prompt = steps["response"], 64
    gen = torch.Generator(device="cpu").manual_seed(0)
    rollout = Rollout(
        prompt_ids=torch.randint(1, config.vocab_size, (1, prompt), generator=gen, device="cpu"),
        prompt_mask=torch.ones(1, prompt, dtype=torch.long, device="cpu"),
        tokens=torch.randint(1, config.vocab_size, (1, length), generator=gen, device="cpu"),
        mask=torch.ones(1, length, device="cpu"), temperatures=torch.ones(1, length, device="cpu"),
        logprobs=torch.zeros(1, length, device="cpu"),
    ).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    policy = ResponseLogprobs(model)
    for chunk in (None, steps["chunk"]):
        cfg = TrainConfig(micro_batch_size=1, logprob_chunk=chunk, bf16_autocast=True, gradient_checkpointing=False)
        times = []
        for _ in range(2):  # the first is a warm-up
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            synchronize(check.device)
            start = time.perf_counter()
            with torch.autocast(device.type, dtype=torch.bfloat16):
                policy_update(policy, optimizer, scheduler, rollout, torch.ones(1, device=device), None, None, cfg,
                              torch.Generator(device="cpu").manual_seed(0))
            synchronize(check.device)
            times.append(time.perf_counter() - start)
        key = f"train_step_{length}_tokens_chunk_{chunk or 'none'}"
        out[key + "_s"] = round(times[-1], 3)
        out[key + "_peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None

    n = steps["matmul"]
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    a @ b
    synchronize(check.device)
    start, reps = time.perf_counter(), 10
    for _ in range(reps):
        a @ b
    synchronize(check.device)
    tflops = 2 * n**3 * reps / (time.perf_counter() - start) / 1e12
    peak = next((v for k, v in BF16_PEAK_TFLOPS.items() if cuda and k in torch.cuda.get_device_name(0)), None)
    out |= {"bf16_matmul_tflops": round(tflops, 1), "bf16_matmul_shape": n, "bf16_peak_tflops": peak,
            "bf16_matmul_utilisation": round(tflops / peak, 3) if peak else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory for gpu_check.json, gpu_check.log and run files")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--small", action="store_true", help="toy sizes (the CPU run in CI)")
    parser.add_argument("--tests", nargs="+", default=DEVICE_TESTS, help="where pytest collects the device tests")
    parser.add_argument("--worker", choices=("fsdp",), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HARNESS_NUMERICS", "native")
    check, steps = Check(args.out, args.device, args.small), sizes(args.small)
    if args.worker:
        fsdp_worker(check, steps)
        return
    check.step("install", lambda: install(check))
    check.step("tests", lambda: device_tests(check, args.tests))
    check.step("train", lambda: train_methods(check, steps))
    check.step("fsdp", lambda: fsdp(check, steps))
    check.step("scale", lambda: scale(check, steps))
    check.say(f"gpu check {'passed' if check.record['ok'] else 'FAILED'}: {args.out / 'gpu_check.json'}")
    sys.exit(0 if check.record["ok"] else 1)


if __name__ == "__main__":
    main()
