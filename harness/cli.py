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
Any config value can be overridden with --set key.path=value (YAML value), e.g. --set train.steps=10.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from harness.config import ExperimentConfig, load_config
from harness.jobs import job
from harness.paths import model_dir, path


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set dotted keys ('train.steps=10') in a parsed config; values are parsed as YAML."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects key.path=value, got {item!r}")
        node = raw
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return raw


def _config(args: argparse.Namespace) -> ExperimentConfig:
    raw = yaml.safe_load(Path(args.config).read_text())
    return load_config(apply_overrides(raw, args.set))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", required=True, help="experiment YAML, e.g. configs/tiny.yaml")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    common.add_argument("--threads", type=int, default=1, help="torch threads")
    cell = argparse.ArgumentParser(add_help=False)
    cell.add_argument("--model", required=True)
    cell.add_argument("--method", required=True)
    cell.add_argument("--seed", type=int, required=True)

    p = sub.add_parser("prepare", parents=[common], help="prepare one dataset (default: all the experiment uses)")
    p.add_argument("--dataset", help="a registered dataset name")
    sub.add_parser("tokenizer", parents=[common], help="build the tiny setting's tokenizer")
    p = sub.add_parser("base-model", parents=[common], help="pre-train, convert or copy a base model")
    p.add_argument("--model", required=True)
    p = sub.add_parser("train", parents=[common, cell], help="GRPO-train one (model, method, seed)")
    p.add_argument("--stop-after", type=int, help="stop after this many steps (resumable)")
    p = sub.add_parser("eval", parents=[common, cell], help="evaluate one cell")
    p.add_argument("--benchmark", required=True)
    p = sub.add_parser("tables", parents=[common], help="build a table from its evaluated cells")
    p.add_argument("--table", default="main", help="a table of the config's `tables` (default: main)")
    p = sub.add_parser("diff", parents=[common], help="rebuild the paper's tables and diff them against its numbers")
    p.add_argument("--table", help="one table of `reproduces.tables` (default: all)")
    p = sub.add_parser("cell", parents=[common, cell], help="run only what one cell needs, through Snakemake")
    p.add_argument("--benchmark", required=True)
    p.add_argument("--cores", type=int, default=2)

    args = parser.parse_args(argv)
    cfg = _config(args)
    exp = cfg.name
    if args.command == "cell":
        raise SystemExit(run_cell(args, cfg))
    with job(args.threads, None):
        _dispatch(args, cfg, exp)


def _dispatch(args: argparse.Namespace, cfg: ExperimentConfig, exp: str) -> None:
    from harness import stages

    train_data = path("dataset", exp=exp, dataset=cfg.train_set)
    if args.command == "prepare":
        for name in [args.dataset] if args.dataset else cfg.dataset_names():
            stages.prepare_dataset(cfg, name, path("dataset", exp=exp, dataset=name))
    elif args.command == "tokenizer":
        stages.build_tokenizer([path("dataset", exp=exp, dataset=d) for d in cfg.dataset_names()], path("tokenizer", exp=exp))
    elif args.command == "base-model":
        stages.base_model(cfg, args.model, path("base_model", exp=exp, model=args.model), train_data, path("tokenizer", exp=exp))
    elif args.command == "train":
        cell = dict(exp=exp, model=args.model, method=args.method, seed=args.seed)
        stages.train_cell(
            cfg, args.model, args.method, args.seed, path("base_model", exp=exp, model=args.model),
            train_data, path("train_dir", **cell), path("model", **cell), args.stop_after,
        )
    elif args.command == "eval":
        cell = dict(exp=exp, model=args.model, method=args.method, seed=args.seed, benchmark=args.benchmark)
        summary = stages.evaluate_cell(
            cfg, args.model, args.method, args.seed, args.benchmark,
            model_dir(exp, args.model, args.method, args.seed), path("dataset", exp=exp, dataset=args.benchmark),
            path("eval", **cell), path("generations", **cell),
        )
        from harness.evaluate import FLEXIBLE

        n = cfg.eval.n_samples
        for reading, prefix in (("strict", ""), ("flexible", FLEXIBLE)):
            print(f"{reading:8}  Avg@{n} {100 * summary[f'{prefix}avg@{n}']:.2f}  "
                  + "  ".join(f"Pass@{k} {100 * summary[f'{prefix}pass@{k}']:.2f}" for k in cfg.eval.ks))
    elif args.command == "tables":
        rows = cfg.table_rows()[args.table]
        evals = [path("eval", exp=exp, model=m, method=r, seed=s, benchmark=b) for m, r, s, b in cfg.cells(rows)]
        missing = [str(e) for e in evals if not e.exists()]
        if missing:
            raise SystemExit(f"tables: {len(missing)} cells are not evaluated yet, e.g. {missing[0]}")
        stages.make_tables(cfg, args.table, evals, path("table", exp=exp, table=args.table, ext="md").parent)
    elif args.command == "diff":
        from harness.paper import table_methods, write_diff_report, write_paper_table

        if cfg.reproduces is None:
            raise SystemExit(f"diff: {args.config} has no `reproduces` section (which paper tables it rebuilds)")
        tables = [args.table] if args.table else cfg.reproduces.tables
        for table in tables:
            evals = [path("eval", exp=exp, model=m, method=r, seed=s, benchmark=b)
                     for m, r, s, b in cfg.cells(table_methods(cfg, table))]
            missing = [str(e) for e in evals if not e.exists()]
            if missing:
                raise SystemExit(f"diff: {table} needs {len(missing)} cells not evaluated yet, e.g. {missing[0]}")
            write_paper_table(cfg, table, evals, path("paper_table", exp=exp, ptable=table, ext="md").with_suffix(""),
                              path("diff", exp=exp, ptable=table, ext="md").with_suffix(""))
        write_diff_report([path("diff", exp=exp, ptable=t, ext="md") for t in cfg.reproduces.tables
                           if path("diff", exp=exp, ptable=t, ext="md").exists()], path("diff_report", exp=exp))
        print(path("diff_report", exp=exp).read_text())
        from harness.claims import claims_for

        methods = list(dict.fromkeys(m for t in tables for m in table_methods(cfg, t)))
        evals = [path("eval", exp=exp, model=m, method=r, seed=s, benchmark=b) for m, r, s, b in cfg.cells(methods)]
        trained = {model_dir(exp, m, r, s) for m, r, s, _ in cfg.cells([r for r in methods if r in ("tampo", "introllm")])}
        claims_for(cfg, evals, sorted(trained), path("claims", exp=exp))
        print(path("claims", exp=exp).read_text())


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
