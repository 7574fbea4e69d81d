"""The pipeline's stages as functions of a validated config and paths. The Snakemake rules
(workflow/scripts) and the `harness` command line both call these, so a stage run by hand and
one run by the workflow are the same code."""

from __future__ import annotations

import zlib
from pathlib import Path

import torch

from harness.config import ExperimentConfig
from harness.data.arithmetic import demonstration, generate_splits
from harness.data.tokenizer import save_tokenizer
from harness.evaluate import generate_and_score, summarize
from harness.io import atomic_path, provenance, read_jsonl, write_json, write_jsonl
from harness.modeling import build_tiny_llama, count_parameters, load_policy
from harness.pretrain import sft
from harness.temperature.base import ControllerContext, TokenPolicy, build_controller, constant
from harness.train import CONTROLLER_FILE, train

TINY_BENCHMARKS = {"arith": "test"}  # benchmark name -> split of the generated data


def prepare(cfg: ExperimentConfig, train_path: Path, benchmark_paths: dict[str, Path], tokenizer_dir: Path) -> None:
    """Generate the synthetic splits and build the tokenizer from them."""
    d = cfg.data
    splits = generate_splits(d.seed, d.levels, d.test_per_level, d.train_size, d.first_max, d.term_max)
    write_jsonl(train_path, splits["train"])
    for name, out in benchmark_paths.items():
        write_jsonl(out, splits[TINY_BENCHMARKS[name]])
    corpus = (f"{r['problem']} {r['solution']}" for split in splits.values() for r in split)
    with atomic_path(tokenizer_dir) as tmp:
        save_tokenizer(corpus, tmp)


def pretrain(cfg: ExperimentConfig, model_name: str, train_path: Path, tokenizer_dir: Path, out_dir: Path) -> None:
    """Random-init the tiny model and teach it the task by SFT on demonstrations."""
    from transformers import AutoTokenizer

    spec = cfg.models[model_name]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    arch = spec.tiny
    model = build_tiny_llama(
        tokenizer, arch.hidden_size, arch.num_layers, arch.num_heads, arch.num_kv_heads,
        arch.intermediate_size, arch.max_positions, arch.init_seed,
    )
    direct_rate = spec.pretrain.direct_rate
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        final = sft(
            model, tokenizer, read_jsonl(train_path), spec.pretrain, tmp / "pretrain_metrics.jsonl",
            solution=lambda record, rng: demonstration(record, rng, direct_rate),
        )
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        meta = provenance(cfg.model_dump(mode="json"), spec.pretrain.seed, model=model_name)
        write_json(tmp / "run.json", {**meta, "parameters": count_parameters(model), "final": final})


def train_cell(
    cfg: ExperimentConfig, model: str, method: str, seed: int, base_dir: Path, train_path: Path, run_dir: Path,
    out_dir: Path, stop_after: int | None = None,
) -> None:
    train(
        base_dir, read_jsonl(train_path), cfg.controller_spec(method), cfg.train_config(method), seed, run_dir,
        out_dir, cfg.model_dump(mode="json"), stop_after,
    )


def eval_policy(cfg: ExperimentConfig, method: str, model_dir: Path, hidden_size: int, seed: int) -> TokenPolicy:
    """A fresh temperature policy for one generation call, by the config's eval protocol:
    one fixed T for every model (TAMPO), or each method's own strategy (IntroLLM)."""
    if cfg.eval.temperature != "method" or method == "base":
        return constant(1.0 if cfg.eval.temperature == "method" else float(cfg.eval.temperature))
    ctx = ControllerContext(total_steps=cfg.train_config(method).steps, hidden_size=hidden_size, seed=seed)
    controller = build_controller(cfg.controller_spec(method), ctx)
    controller.load_state_dict(torch.load(model_dir / CONTROLLER_FILE, weights_only=False))
    return controller.eval_policy()


def evaluate_cell(
    cfg: ExperimentConfig, model: str, method: str, seed: int, benchmark: str,
    model_dir: Path, data_path: Path, out_json: Path, out_generations: Path,
) -> dict:
    """Sample n responses per problem, score them, and write metrics and generations."""
    policy_model, tokenizer = load_policy(model_dir)
    eval_seed = seed * 1_000_003 + zlib.crc32(benchmark.encode())  # distinct per cell, reproducible
    rows = generate_and_score(
        policy_model, tokenizer,
        lambda: eval_policy(cfg, method, model_dir, policy_model.config.hidden_size, seed),
        read_jsonl(data_path), cfg.eval, eval_seed,
    )
    summary = summarize(rows, cfg.eval.n_samples, cfg.eval.ks)
    write_jsonl(out_generations, rows)
    cell = {"exp": cfg.name, "model": model, "method": method, "seed": seed, "benchmark": benchmark}
    write_json(out_json, {**cell, "metrics": summary, "provenance": provenance(cfg.model_dump(mode="json"), seed, eval_seed=eval_seed)})
    return summary


def make_tables(cfg: ExperimentConfig, table_name: str, eval_paths: list[Path], tables_dir: Path) -> None:
    """{table}: benchmarks x (Avg@n, Pass@k); {table}_by_level: Avg@n per difficulty level;
    {table}_summary: every aggregate in long form."""
    from harness.tables import aggregate, load_cells, wide_table, write_table

    summary = aggregate(load_cells(eval_paths))
    n = cfg.eval.n_samples
    metrics = [f"Avg@{n}"] + [f"Pass@{k}" for k in cfg.eval.ks if k > 1]
    columns = [f"{b} {m}" for b in cfg.eval.benchmarks for m in metrics]
    rows = cfg.table_rows()[table_name]
    main = wide_table(summary, rows, "all", columns)
    title = f"{cfg.name} {table_name}: mean ± std [95% CI] over seeds, %"
    write_table(main, tables_dir / f"{table_name}.md", tables_dir / f"{table_name}.csv", title)
    levels = sorted(lv for lv in summary["level"].unique() if lv != "all")
    by_level = summary[summary["level"] != "all"].assign(benchmark=lambda f: f["benchmark"] + " L" + f["level"], level="all")
    cols = [f"{b} L{lv} Avg@{n}" for b in cfg.eval.benchmarks for lv in levels]
    table = wide_table(by_level, rows, "all", cols) if levels else main.iloc[:0, :2]
    stem = tables_dir / f"{table_name}_by_level"
    write_table(table, stem.with_suffix(".md"), stem.with_suffix(".csv"), f"{cfg.name} {table_name}: Avg@{n} by level, %")
    with atomic_path(tables_dir / f"{table_name}_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
