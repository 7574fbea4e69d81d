"""The pipeline's stages as functions of a validated config and paths. The Snakemake rules
(workflow/scripts) and the `harness` command line both call these, so a stage run by hand and
one run by the workflow are the same code. What only some stages use (the model and sampler,
the trainer, pre-training, the tables) is imported where it runs: every job is a fresh process,
and a dataset, tokenizer or table job then starts in a third of a model job's time."""

from __future__ import annotations

import traceback
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness import handoff
from harness.benchmarks import get_spec, load_benchmark
from harness.benchmarks.load import apply_limit, to_records
from harness.config import ExperimentConfig
from harness.data import demonstrations, generate_splits
from harness.io import atomic_path, provenance, read_jsonl, write_json, write_jsonl

if TYPE_CHECKING:
    from harness.checkpoint import StalePolicy


def prepare_dataset(cfg: ExperimentConfig, name: str, out: Path) -> None:
    """One registered dataset as records, written to `out` (`dataset_records`)."""
    write_jsonl(out, dataset_records(cfg, name))


def dataset_records(cfg: ExperimentConfig, name: str) -> list[dict]:
    """One registered dataset as records (harness.benchmarks.load): generated here for the
    embedded setting, else read from the hub, a local path or a package."""
    spec = get_spec(name)
    override = cfg.datasets.get(name)
    if (synthetic := spec.source.synthetic) is None:
        return load_benchmark(spec, override, cfg.data.seed)
    rows = generate_splits(synthetic.generator, cfg.data.seed, getattr(cfg.data, synthetic.generator))[synthetic.split]
    return apply_limit(to_records(spec, rows, cfg.data.seed, f"the {synthetic.generator} generator"), override, cfg.data.seed, name)


def build_tokenizer(dataset_paths: list[Path], out_dir: Path) -> None:
    """The embedded setting's character-level tokenizer, built from every problem and solution."""
    from harness.data.tokenizer import save_tokenizer

    corpus = (f"{r['problem']} {r.get('solution', '')}" for p in dataset_paths for r in read_jsonl(p))
    with atomic_path(out_dir) as tmp:
        save_tokenizer(corpus, tmp)


def base_model(cfg: ExperimentConfig, model_name: str, out_dir: Path, train_path: Path | None, tokenizer_dir: Path | None) -> None:
    """The policy GRPO starts from, as a safetensors checkpoint directory: the tiny model
    pre-trained here, a GGUF file converted, or a checkpoint (hub id or directory) copied."""
    from harness.modeling import count_parameters, gguf_path, load_checkpoint, load_gguf

    spec = cfg.models[model_name]
    if spec.tiny is not None:
        pretrain(cfg, model_name, train_path, tokenizer_dir, out_dir)
        return
    if spec.gguf is not None:
        model, tokenizer = load_gguf(gguf_path(spec.gguf.package, spec.gguf.path, spec.gguf.file))
    else:
        model, tokenizer = load_checkpoint(spec.checkpoint, f"models.{model_name}.checkpoint")
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        meta = provenance(cfg.model_dump(mode="json"), None, model=model_name)
        write_json(tmp / "run.json", {**meta, "parameters": count_parameters(model)})


def pretrain(cfg: ExperimentConfig, model_name: str, train_path: Path, tokenizer_dir: Path, out_dir: Path) -> None:
    """Random-init the tiny model and teach it the task by SFT on demonstrations."""
    from transformers import AutoTokenizer

    from harness.modeling import build_tiny_llama, count_parameters
    from harness.pretrain import sft

    spec = cfg.models[model_name]
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    arch = spec.tiny
    model = build_tiny_llama(
        tokenizer, arch.hidden_size, arch.num_layers, arch.num_heads, arch.num_kv_heads,
        arch.intermediate_size, arch.max_positions, arch.init_seed,
    )
    synthetic = get_spec(cfg.train_set).source.synthetic
    if synthetic is None:
        raise ValueError(f"models.{model_name}.tiny: a tiny model is pre-trained on an embedded task family, "
                         f"but train_set {cfg.train_set!r} is not one (e.g. arith-train, countdown-train)")
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        final = sft(
            model, tokenizer, read_jsonl(train_path), spec.pretrain, tmp / "pretrain_metrics.jsonl",
            solution=demonstrations(synthetic.generator, getattr(cfg.data, synthetic.generator)),
        )
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        meta = provenance(cfg.model_dump(mode="json"), spec.pretrain.seed, model=model_name)
        write_json(tmp / "run.json", {**meta, "parameters": count_parameters(model), "final": final})


def train_cell(
    cfg: ExperimentConfig, model: str, method: str, seed: int, base_dir: Path, train_path: Path, run_dir: Path,
    out_dir: Path, stop_after: int | None = None, stale: StalePolicy = "refuse",
) -> None:
    """GRPO-train one cell; `stale`: what to do with a checkpoint of another run configuration
    in `run_dir` (harness.checkpoint: refused by hand, discarded by the workflow's train job)."""
    from harness import distributed
    from harness.train import train

    train_cfg = cfg.train_config(method)
    args = (base_dir, read_jsonl(train_path), cfg.controller_spec(method), train_cfg, seed, run_dir,
            out_dir, cfg.model_dump(mode="json"), stop_after, cfg.models[model].prompt_format, stale)
    distributed.launch(train, args, train_cfg.processes)


def evaluate_cell(
    cfg: ExperimentConfig, model: str, method: str, seed: int, benchmark: str,
    model_dir: Path, data_path: Path, out_json: Path, out_generations: Path, recompute: bool = False,
) -> dict:
    """Evaluate one cell (run_evaluation), or adopt the evaluation its training job ran on the
    same model from the same inputs (harness.handoff): the same files either way. `recompute`:
    evaluate even where there is one to adopt."""
    def evaluate() -> dict:
        return run_evaluation(cfg, model, method, seed, benchmark, model_dir, data_path, out_json, out_generations)

    if recompute:
        return evaluate()
    key = evaluation_key(cfg, model, method, seed, benchmark, model_dir, data_path)
    return handoff.evaluate_or_adopt(key, model_dir, benchmark, out_json, out_generations, evaluate)


def evaluation_key(cfg: ExperimentConfig, model: str, method: str, seed: int, benchmark: str, model_dir: Path,
                   data_path: Path) -> dict:
    """harness.handoff's key of an evaluation in this (configured) process."""
    import torch

    return handoff.handoff_key(cfg.model_dump(mode="json"), model, method, seed, benchmark, model_dir, data_path,
                               torch.get_num_threads())


def evaluate_after_training(cfg: ExperimentConfig, model: str, method: str, seed: int, model_dir: Path,
                            dataset_path: Callable[[str], Path]) -> None:
    """A training job's evaluation of the model it has just saved in `model_dir`, on every
    benchmark whose dataset (`dataset_path(benchmark)`) is prepared, kept there for the evaluation
    jobs to adopt (harness.handoff): one process start instead of two. A benchmark whose
    evaluation fails here is logged and left to its evaluation job, which evaluates it and
    reports the error there: the trained model, this job's output, is kept."""
    from harness.distributed import release_cached_memory

    release_cached_memory()
    for benchmark in cfg.eval.benchmarks:
        data_path = dataset_path(benchmark)
        if not data_path.exists():  # a hub benchmark not prepared yet: its evaluation job evaluates
            continue
        key = evaluation_key(cfg, model, method, seed, benchmark, model_dir, data_path)
        metrics, generations, _ = handoff.handoff_paths(model_dir, benchmark)
        try:
            run_evaluation(cfg, model, method, seed, benchmark, model_dir, data_path, metrics, generations)
        except Exception:  # any failure: the evaluation job redoes it and raises it to the user
            for partial in (metrics, generations):
                partial.unlink(missing_ok=True)
            print(f"the training job's evaluation of {benchmark} failed (traceback below); the model is saved, "
                  f"and the evaluation job of {benchmark} will evaluate it:\n{traceback.format_exc()}", flush=True)
            continue
        handoff.seal(key, model_dir, benchmark)


def run_evaluation(
    cfg: ExperimentConfig, model: str, method: str, seed: int, benchmark: str,
    model_dir: Path, data_path: Path, out_json: Path, out_generations: Path,
) -> dict:
    """Sample n responses per problem, score them, and write metrics and generations; the
    engine (native loop or lm-eval) changes who drives generation, not what is computed."""
    import torch

    from harness.distributed import resolve_device
    from harness.evaluate import eval_policy, generate_and_score, summarize
    from harness.modeling import load_policy
    from harness.prompts import record_prompt_ids
    from harness.sampling import build_sampler

    eval_seed = seed * 1_000_003 + zlib.crc32(benchmark.encode())  # per (seed, benchmark), the same for every method
    extra, tokens = {}, None
    if cfg.eval.engine == "lm_eval":
        from harness.lm_eval_model import lm_eval_rows

        rows, extra["lm_eval"] = lm_eval_rows(cfg, model, method, seed, benchmark, model_dir, data_path, eval_seed)
    else:
        policy_model, tokenizer = load_policy(model_dir, resolve_device(cfg.eval.device, "eval.device"))
        generator = torch.Generator(device="cpu").manual_seed(eval_seed)  # row seeds: the same on every device
        sampler = build_sampler(cfg.eval.sampler, policy_model, model_dir, tokenizer, generator, cfg.eval.vllm)
        records, prompt_format = read_jsonl(data_path)[: cfg.eval.limit], cfg.models[model].prompt_format
        rows = generate_and_score(
            sampler, tokenizer,
            lambda: eval_policy(cfg, method, model_dir, policy_model.config.hidden_size, seed, policy_model.device),
            records, cfg.eval, cfg.eval_max_new_tokens(benchmark), prompt_format,
        )
        # the model's work, for its FLOPs: each problem's prompt once (shared prefill), every generated token
        tokens = {"prompt": sum(len(record_prompt_ids(tokenizer, r, prompt_format)) for r in records),
                  "generated": sum(row["length"] for row in rows)}
    summary = summarize(rows, cfg.eval.n_samples, cfg.eval.ks) | extra
    write_jsonl(out_generations, rows)
    cell = {"exp": cfg.name, "model": model, "method": method, "seed": seed, "benchmark": benchmark}
    write_json(out_json, {**cell, "metrics": summary, **({"tokens": tokens} if tokens else {}),
                          "provenance": provenance(cfg.model_dump(mode="json"), seed, eval_seed=eval_seed)})
    return summary


def make_tables(cfg: ExperimentConfig, table_name: str, eval_paths: list[Path], tables_dir: Path) -> None:
    """{table}: benchmarks x (Avg@n, Pass@k); {table}_by_level: Avg@n per difficulty level;
    {table}_summary: every aggregate in long form."""
    from harness.snapshot import spread_note
    from harness.tables import AVERAGE, aggregate, load_cells, wide_table, with_average, write_table

    benchmarks = cfg.eval.benchmarks
    cells = load_cells(eval_paths)
    if len(benchmarks) > 1:
        cells, benchmarks = with_average(cells, benchmarks), [*benchmarks, AVERAGE]
    summary = aggregate(cells)
    n = cfg.eval.n_samples
    metrics = [f"Avg@{n}"] + [f"Pass@{k}" for k in cfg.eval.ks if k > 1]
    if cfg.eval.flexible_columns:
        metrics += [f"flexible {m}" for m in metrics]
    columns = [f"{b} {m}" for b in benchmarks for m in metrics]
    rows = cfg.table_rows()[table_name]
    labels = {method: cfg.method_label(method) for method in rows}
    main = wide_table(summary, rows, "all", columns, labels)
    title = f"{cfg.name} {table_name}: mean ± std [95% CI] over seeds, %"
    spread = cfg.statistics.base_spread_path()
    note = "" if spread is None else spread_note(spread, cfg.statistics.base_spread)
    write_table(main, tables_dir / f"{table_name}.md", tables_dir / f"{table_name}.csv", title, note)
    levels = sorted(lv for lv in summary["level"].unique() if lv != "all")
    by_level = summary[summary["level"] != "all"].assign(benchmark=lambda f: f["benchmark"] + " L" + f["level"], level="all")
    cols = [f"{b} L{lv} Avg@{n}" for b in cfg.eval.benchmarks for lv in levels]
    table = wide_table(by_level, rows, "all", cols, labels) if levels else main.iloc[:0, :3]
    stem = tables_dir / f"{table_name}_by_level"
    write_table(table, stem.with_suffix(".md"), stem.with_suffix(".csv"), f"{cfg.name} {table_name}: Avg@{n} by level, %", note)
    with atomic_path(tables_dir / f"{table_name}_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
