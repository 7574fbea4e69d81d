"""The README's numbers, generated from committed copies of results, never typed.

`make readme-numbers` copies the last run's record (`results/run.json`) and its experiments'
tables into `reference/` (committed) and rewrites every marked block of README.md:

    <!-- numbers:NAME -->
    ...generated from reference/...
    <!-- /numbers:NAME -->

tests/test_readme.py checks that the README's blocks equal what this module renders from the
committed copies, so each number in the README traces back to a results file, and each
sentence about the results is computed from the numbers it describes.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from harness.config import REPO_ROOT, ExperimentConfig, load_config
from harness.tables import format_cell

REFERENCE = REPO_ROOT / "reference"
README = REPO_ROOT / "README.md"
MARKER = re.compile(r"(<!-- numbers:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /numbers:(?P=name) -->)", re.DOTALL)
TABLE_FILES = ("main.csv", "main_summary.csv", "main_by_level.csv")

Block = Callable[[Path], str]
BLOCKS: dict[str, Block] = {}


def block(name: str) -> Callable[[Block], Block]:
    def register(fn: Block) -> Block:
        BLOCKS[name] = fn
        return fn

    return register


# ---------------------------------------------------------------- reading the reference copies


def run_record(reference: Path) -> dict:
    return json.loads((reference / "run.json").read_text())


def experiment(reference: Path, exp: str) -> tuple[ExperimentConfig, pd.DataFrame, dict]:
    """An experiment's config as the run resolved it, its long-form summary, and the run record."""
    record = run_record(reference)
    if exp not in record["experiments"]:
        raise ValueError(f"reference/run.json has no experiment {exp!r}; it has {sorted(record['experiments'])}")
    cfg = load_config(record["experiments"][exp])
    return cfg, pd.read_csv(reference / exp / "tables" / "main_summary.csv", dtype={"level": str}), record


def value(summary: pd.DataFrame, method: str, metric: str, level: str = "all") -> pd.Series:
    rows = summary[(summary["method"] == method) & (summary["metric"] == metric) & (summary["level"] == level)]
    if len(rows) != 1:
        raise ValueError(f"reference summary: expected one row for {method} {metric} level {level}, found {len(rows)}")
    return rows.iloc[0]


def run_line(record: dict) -> str:
    n = record["numerics"]
    cpu = n["cpu"]
    kernels = (f"pinned numerics (ATen {n['aten_capability']}, MKL {n['mkl_branch']}), {n['job_threads']} thread per job"
               if n["mode"] == "pinned" else f"native numerics (ATen {n['aten_capability']})")
    minutes, seconds = divmod(round(record["wall_seconds"]), 60)
    scope = "from scratch" if record["from_scratch"] else "resumed"
    return (f"`make run` at revision `{record['git_revision'][:10]}`, {record['finished'][:10]}: {cpu['model']} "
            f"({', '.join(cpu['flags'])}), {kernels}, `--cores {record['cores']}`; {minutes} min {seconds} s {scope} "
            f"({record['models_trained']} models trained, {record['cells_evaluated']} cells evaluated).")


# ---------------------------------------------------------------- the blocks


@block("tiny-main")
def tiny_main(reference: Path) -> str:
    cfg, summary, record = experiment(reference, "tiny")
    n, k = cfg.eval.n_samples, max(cfg.eval.ks)
    lines = [f"| method | Avg@{n} | Pass@{k} |", "|:--|:--|:--|"]
    for method in cfg.table_rows()["main"]:
        cells = [format_cell(value(summary, method, metric)) for metric in (f"avg@{n}", f"pass@{k}")]
        lines.append(f"| {cfg.method_label(method)} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n\n" + run_line(record) + "\n"


@block("tiny-findings")
def tiny_findings(reference: Path) -> str:
    cfg, summary, _ = experiment(reference, "tiny")
    n, k = cfg.eval.n_samples, max(cfg.eval.ks)
    methods = list(cfg.methods)
    avg = {m: value(summary, m, f"avg@{n}")["mean"] for m in ["base", *methods]}
    gains = {m: avg[m] - avg["base"] for m in methods}
    spread = max(avg[m] for m in methods) - min(avg[m] for m in methods)
    widths = [value(summary, m, f"avg@{n}")["ci95_high"] - value(summary, m, f"avg@{n}")["ci95_low"] for m in methods]
    levels = sorted(summary.loc[summary["level"] != "all", "level"].unique(), key=int)
    low, high = levels[0], levels[-1]

    def level_range(metric: str, level: str) -> str:
        values = [value(summary, m, metric, level)["mean"] for m in methods]
        return f"{min(values):.0f}-{max(values):.0f}%"

    sentences = [
        f"GRPO raises Avg@{n} by {min(gains.values()):.1f} to {max(gains.values()):.1f} points over the base model, "
        "whatever the temperature method.",
        f"By level (`main_by_level.md`), the base model solves {value(summary, 'base', f'avg@{n}', low)['mean']:.0f}% of "
        f"level-{low} and {value(summary, 'base', f'avg@{n}', high)['mean']:.0f}% of level-{high} samples; after GRPO "
        f"{level_range(f'avg@{n}', low)} and {level_range(f'avg@{n}', high)}.",
        f"Level-{high} Pass@{k} after GRPO is {level_range(f'pass@{k}', high)}.",
        f"The {len(methods)} methods span {spread:.1f} Avg@{n} points, against 95% intervals over seeds "
        f"{min(widths):.1f} to {max(widths):.1f} points wide.",
    ]
    return " ".join(sentences) + "\n"


# ---------------------------------------------------------------- snapshot, render, rewrite


def snapshot(results: Path, reference: Path) -> None:
    """Copy the last run's record (`results/run.json`) and each of its experiments' tables into
    the reference tree, replacing what was there."""
    record_path = results / "run.json"
    if not record_path.exists():
        raise FileNotFoundError(f"{record_path} does not exist: run the pipeline (make run) first")
    experiments = json.loads(record_path.read_text())["experiments"]
    missing = [str(results / e / "tables" / f) for e in experiments for f in TABLE_FILES if not (results / e / "tables" / f).exists()]
    if missing:
        raise FileNotFoundError(f"the last run did not produce {missing}: rerun make run")
    if reference.exists():
        shutil.rmtree(reference)
    for exp in experiments:
        (reference / exp / "tables").mkdir(parents=True)
        for name in TABLE_FILES:
            shutil.copyfile(results / exp / "tables" / name, reference / exp / "tables" / name)
    shutil.copyfile(record_path, reference / "run.json")


def render(reference: Path = REFERENCE) -> dict[str, str]:
    return {name: fn(reference) for name, fn in BLOCKS.items()}


def blocks_in(text: str) -> dict[str, str]:
    return {m.group("name"): m.group("body") for m in MARKER.finditer(text)}


def rewrite(text: str, rendered: dict[str, str]) -> str:
    """`text` with the body of every marked block replaced by its rendering."""
    unknown = sorted(set(blocks_in(text)) - set(rendered))
    if unknown:
        raise ValueError(f"README blocks {unknown} have no renderer; known: {sorted(rendered)}")
    return MARKER.sub(lambda m: m.group(1) + rendered[m.group("name")] + m.group(4), text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", action="store_true",
                        help="first copy the last run's record and tables (results/) into reference/")
    parser.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    args = parser.parse_args(argv)
    if args.snapshot:
        snapshot(REPO_ROOT / "results", REFERENCE)
    text = README.read_text()
    new = rewrite(text, render())
    if args.check:
        raise SystemExit(0 if new == text else "README.md's numbers differ from reference/: run make readme-numbers")
    README.write_text(new)
    print(f"README.md: {len(blocks_in(new))} blocks rendered from {REFERENCE.relative_to(REPO_ROOT)}/")


if __name__ == "__main__":
    main()
