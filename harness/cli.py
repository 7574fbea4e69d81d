"""`harness`: run one stage of the pipeline by hand, with the same code and paths as the
Snakemake workflow (which is the way to run many: `snakemake --cores 2`).

  harness prepare    --config configs/tiny.yaml [--dataset arith]
  harness tokenizer  --config configs/tiny.yaml
  harness base-model --config configs/tiny.yaml --model tiny-llama
  harness train    --config configs/tiny.yaml --model tiny-llama --method grpo-t1.0 --seed 0
  harness eval     --config configs/tiny.yaml --model tiny-llama --method grpo-t1.0 --seed 0 --benchmark arith
  harness tables   --config configs/tiny.yaml --table main
  harness diff     --config configs/tiny-tampo.yaml            (paper tables and their diff)
  harness cell     --config configs/tiny.yaml --model tiny-llama --method tampo --seed 0 --benchmark arith
  harness power    --config configs/tiny.yaml --seeds 5 --problem-scale 2 --samples 16   (from comparisons.csv)
  harness explain  --config configs/papers/tampo.yaml   (every value with its cited source, or as a default)
Any config value can be overridden with --set key.path=value (YAML value), e.g. --set train.steps=10.
A run whose overrides change what it computes writes under results/{name}+{hash}/, never into
the pipeline's cells of results/{name}/ (see `Experiment`).
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import ConfigError, ExperimentConfig, load_config, resolve_includes
from harness.config_file import parse_config_text, read_config_file
from harness.io import fingerprint_json
from harness.jobs import job
from harness.names import did_you_mean
from harness.paths import path
from harness.targets import wildcard_values


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set dotted keys ('train.steps=10') in a parsed config; values are parsed as YAML. A key
    that itself contains dots (a method named grpo-t1.0) is matched whole where it exists."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects key.path=value, got {item!r}")
        node, rest = raw, key
        while rest not in node and "." in rest:
            parts = rest.split(".")
            take = next((n for n in range(len(parts) - 1, 0, -1) if ".".join(parts[:n]) in node), 1)
            part, rest = ".".join(parts[:take]), ".".join(parts[take:])
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {part!r} holds {node!r}, not a mapping of keys")
        node[rest] = parse_config_text(f"v: {value}", f"--set {key}")["v"] if value.strip() else None
    return raw


@dataclass(frozen=True)
class Experiment:
    """A config as run by hand, and where its artefacts go. Without overrides, or with overrides
    that change nothing a run computes, that is the pipeline's own results/{name}/. Otherwise the
    run's cells (training, evaluation, tables) go to results/{name}+{hash of the resolved config}/,
    so a 20-step test run can never stand in for the pipeline's cell; its inputs (datasets,
    tokenizer, base model) stay the pipeline's while the overrides leave what builds them alone."""

    cfg: ExperimentConfig
    exp: str  # where this run's cells go
    inputs_exp: str  # where its datasets, tokenizer and base model are


UPSTREAM_FIELDS = {"data", "datasets", "train_set", "models"}  # with eval.benchmarks: what builds the inputs


def _upstream(cfg: ExperimentConfig) -> dict[str, Any]:
    return {**cfg.model_dump(mode="json", include=UPSTREAM_FIELDS), "benchmarks": cfg.eval.benchmarks}


def resolve(config: str | Path, overrides: list[str]) -> Experiment:
    """The experiment a `--config` file and its `--set` overrides describe (see Experiment)."""
    raw = resolve_includes(read_config_file(config))
    cfg = load_config(apply_overrides(copy.deepcopy(raw), overrides))
    if not overrides:
        return Experiment(cfg, cfg.name, cfg.name)
    try:
        file_cfg = load_config(raw)
    except ConfigError:
        file_cfg = None  # the overrides repair the file: the pipeline cannot run this config at all
    if file_cfg is not None and file_cfg.result_fields() == cfg.result_fields():
        return Experiment(cfg, cfg.name, cfg.name)
    digest = fingerprint_json(cfg.result_fields())[:8]
    exp = f"{cfg.name}+{digest}"
    same_inputs = file_cfg is not None and _upstream(file_cfg) == _upstream(cfg)
    inputs_exp = file_cfg.name if same_inputs else exp
    print(f"harness: --set changes the config: this run writes results/{exp}/ (results/{cfg.name}/ is the "
          f"pipeline's), reading its inputs from results/{inputs_exp}/", file=sys.stderr)
    return Experiment(cfg, exp, inputs_exp)


def _check_names(args: argparse.Namespace, cfg: ExperimentConfig) -> None:
    """--model, --method, --benchmark, --dataset and --table must name entries of the config."""
    known = wildcard_values(cfg)
    # harness tables: the config's tables; harness diff: the paper tables it rebuilds
    known["table"] = known["table"] if args.command == "tables" else known.pop("ptable")
    for arg, names in known.items():
        value = getattr(args, arg, None)
        if value is not None and value not in names:
            raise ConfigError(f"--{arg} {value!r} is not in the config{did_you_mean(value, names)}; allowed: {', '.join(names)}")


def _help_config(argv: list[str] | None) -> ExperimentConfig | None:
    """The --config of the command line, read for the help texts; None when absent or invalid
    (the parse proper then says why)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    config = pre.parse_known_args(argv)[0].config
    try:
        return load_config(config) if config else None
    except ConfigError:
        return None


def _names_help(cfg: ExperimentConfig | None, wildcard: str) -> str:
    """Help for an argument naming a config entry: the entries of --config, methods with their labels."""
    if cfg is None:
        return f"a {wildcard} of the config (with --config, --help lists them)"
    names = wildcard_values(cfg)[wildcard]
    if wildcard == "method":
        names = [f"{m} ({cfg.method_label(m)})" if cfg.method_label(m) != m else m for m in names]
    return f"one of: {', '.join(names)}"


def main(argv: list[str] | None = None) -> None:
    try:
        _main(argv)
    except ConfigError as err:  # a bad config or argument: the message, without a traceback
        raise SystemExit(f"harness: {err}") from None


def _main(argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", required=True, help="experiment YAML, e.g. configs/tiny.yaml")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    common.add_argument("--threads", type=int, default=1, help="torch threads")
    cfg = _help_config(argv)
    cell = argparse.ArgumentParser(add_help=False)
    cell.add_argument("--model", required=True, help=_names_help(cfg, "model"))
    cell.add_argument("--method", required=True, help=_names_help(cfg, "method"))
    seeds = f"the config's: {', '.join(map(str, cfg.seeds))}" if cfg else "the config's `seeds`"
    cell.add_argument("--seed", type=int, required=True, help=f"training seed (method base: sampling seed); {seeds}")

    p = sub.add_parser("prepare", parents=[common], help="prepare one dataset (default: all the experiment uses)")
    p.add_argument("--dataset", help="a registered dataset name")
    sub.add_parser("tokenizer", parents=[common], help="build the tiny setting's tokenizer")
    p = sub.add_parser("base-model", parents=[common], help="pre-train, convert or copy a base model")
    p.add_argument("--model", required=True, help=_names_help(cfg, "model"))
    p = sub.add_parser("train", parents=[common, cell], help="GRPO-train one (model, method, seed)")
    p.add_argument("--stop-after", type=int, help="stop after this many steps (resumable)")
    p = sub.add_parser("eval", parents=[common, cell], help="evaluate one cell")
    p.add_argument("--benchmark", required=True, help=_names_help(cfg, "benchmark"))
    p.add_argument("--recompute", action="store_true",
                   help="evaluate even where the training job's evaluation of the same inputs could be adopted")
    p = sub.add_parser("tables", parents=[common], help="build a table from its evaluated cells")
    p.add_argument("--table", default="main", help="a table of the config's `tables` (default: main)")
    p = sub.add_parser("diff", parents=[common], help="rebuild the paper's tables and diff them against its numbers")
    p.add_argument("--table", help="one table of `reproduces.tables` (default: all)")
    p = sub.add_parser("power", parents=[common], help="every comparison's MDD and seeds needed at another design")
    p.add_argument("--seeds", type=int, help="seeds (default: as measured)")
    p.add_argument("--problem-scale", type=float, default=1.0, help="problems per benchmark times this (default 1)")
    p.add_argument("--samples", type=int, help="samples per problem (default: as measured)")
    p.add_argument("--detect", type=float, help="difference in points whose seeds are given (default: statistics.detect)")
    sub.add_parser("explain", parents=[common], help="the resolved config, each value with its cited source or as a default")
    p = sub.add_parser("cell", parents=[common, cell], help="run only what one cell needs, through Snakemake")
    p.add_argument("--benchmark", required=True, help=_names_help(cfg, "benchmark"))
    p.add_argument("--cores", type=int, default=2)

    args = parser.parse_args(argv)
    if args.command == "cell":
        cfg = load_config(args.config)
        _check_names(args, cfg)
        raise SystemExit(run_cell(args, cfg))
    experiment = resolve(args.config, args.set)
    _check_names(args, experiment.cfg)
    with job(args.threads, None):
        _dispatch(args, experiment)


def _dispatch(args: argparse.Namespace, experiment: Experiment) -> None:
    from harness import stages

    cfg, exp, inputs = experiment.cfg, experiment.exp, experiment.inputs_exp
    train_data = path("dataset", exp=inputs, dataset=cfg.train_set)
    if args.command == "explain":
        from harness.explain import explain

        print(explain(apply_overrides(resolve_includes(read_config_file(args.config)), args.set), cfg))
    elif args.command == "prepare":
        for name in [args.dataset] if args.dataset else cfg.dataset_names():
            stages.prepare_dataset(cfg, name, path("dataset", exp=inputs, dataset=name))
    elif args.command == "tokenizer":
        datasets = [path("dataset", exp=inputs, dataset=d) for d in cfg.dataset_names()]
        stages.build_tokenizer(datasets, path("tokenizer", exp=inputs))
    elif args.command == "base-model":
        out = path("base_model", exp=inputs, model=args.model)
        stages.base_model(cfg, args.model, out, train_data, path("tokenizer", exp=inputs))
    elif args.command == "train":
        cell = dict(exp=exp, model=args.model, method=args.method, seed=args.seed)
        stages.train_cell(
            cfg, args.model, args.method, args.seed, path("base_model", exp=inputs, model=args.model),
            train_data, path("train_dir", **cell), path("model", **cell), args.stop_after,
        )
    elif args.command == "eval":
        cell = dict(exp=exp, model=args.model, method=args.method, seed=args.seed, benchmark=args.benchmark)
        policy = path("base_model", exp=inputs, model=args.model) if args.method == "base" else path("model", **cell)
        summary = stages.evaluate_cell(
            cfg, args.model, args.method, args.seed, args.benchmark,
            policy, path("dataset", exp=inputs, dataset=args.benchmark),
            path("eval", **cell), path("generations", **cell), recompute=args.recompute,
        )
        from harness.metrics import FLEXIBLE

        n = cfg.eval.n_samples
        for reading, prefix in (("strict", ""), ("flexible", FLEXIBLE)):
            print(f"{reading:8}  Avg@{n} {100 * summary[f'{prefix}avg@{n}']:.2f}  "
                  + "  ".join(f"Pass@{k} {100 * summary[f'{prefix}pass@{k}']:.2f}" for k in cfg.eval.ks))
    elif args.command == "tables":
        evals = evaluated(cfg.eval_files(exp, cfg.table_rows()[args.table]), f"tables: {args.table}")
        stages.make_tables(cfg, args.table, evals, path("table", exp=exp, table=args.table, ext="md").parent)
    elif args.command == "power":
        import pandas as pd

        from harness.comparisons import sizing

        csv = path("comparisons", exp=exp, ext="csv")
        if not csv.exists():
            raise SystemExit(f"power: {csv} does not exist yet (snakemake builds it: rule statistics)")
        detect = args.detect or cfg.statistics.detect
        print(sizing(pd.read_csv(csv), args.seeds, args.problem_scale, args.samples, detect).to_markdown(index=False, floatfmt=".2f"))
    elif args.command == "diff":
        from harness.paper import table_methods
        from harness.reproduction import write_diff_report, write_paper_table

        if cfg.reproduces is None:
            raise SystemExit(f"diff: {args.config} has no `reproduces` section (which paper tables it rebuilds)")
        tables = [args.table] if args.table else cfg.reproduces.tables
        for table in tables:
            evals = evaluated(cfg.eval_files(exp, table_methods(cfg, table)), f"diff: {table}")
            write_paper_table(cfg, table, evals, path("paper_table", exp=exp, ptable=table, ext="md").with_suffix(""),
                              path("diff", exp=exp, ptable=table, ext="md").with_suffix(""))
        write_diff_report([path("diff", exp=exp, ptable=t, ext="md") for t in cfg.reproduces.tables
                           if path("diff", exp=exp, ptable=t, ext="md").exists()], path("diff_report", exp=exp))
        print(path("diff_report", exp=exp).read_text())
        from harness.claims import claim_inputs, claims_for

        inputs = claim_inputs(cfg, exp, tables)
        claims_for(cfg, inputs["evals"], inputs["models"], path("claims", exp=exp))
        print(path("claims", exp=exp).read_text())


def evaluated(evals: list[Path], what: str) -> list[Path]:
    """`evals` if every cell is evaluated, else an exit naming how many are not and one of them."""
    missing = [str(e) for e in evals if not e.exists()]
    if missing:
        raise SystemExit(f"{what} needs {len(missing)} cells not evaluated yet, e.g. {missing[0]}")
    return evals


def run_cell(args: argparse.Namespace, cfg: ExperimentConfig) -> int:
    """Snakemake builds exactly this cell's target and what it depends on (data, base model,
    training), reusing whatever exists; --set overrides are not passed (edit the config)."""
    import subprocess
    import sys

    if args.set:
        raise SystemExit("cell: --set is not supported here: the workflow reads the config file itself")
    target = path("eval", exp=cfg.name, model=args.model, method=args.method, seed=args.seed, benchmark=args.benchmark)
    snakefile = Path(__file__).resolve().parent.parent / "Snakefile"
    # the target before --configfile, which takes several values
    cmd = [sys.executable, "-m", "snakemake", "-s", str(snakefile), str(target), "--cores", str(args.cores),
           "--configfile", args.config]
    print(" ".join(cmd))
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    main()
