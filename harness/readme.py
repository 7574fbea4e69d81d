"""The README's numbers, generated from committed copies of results, never typed.

`make readme-numbers` copies the last run's record (`results/run.json`), its experiments' tables
and the time of each of their jobs (`logs/{exp}/**/*.time.tsv`, one row per job in
`reference/{exp}/jobs.csv`) into `reference/` (committed) and rewrites every marked block of
README.md:

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
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from harness import numerics
from harness.comparisons import fixed_temperature
from harness.config import REPO_ROOT, ExperimentConfig, load_config
from harness.io import git_revision, iso_time, python_build, write_json
from harness.model_flops import job_flops
from harness.snapshot import (
    DIGESTS,
    base_spread,
    compare_digests,
    experiment,
    read_digests,
    run_digests,
    run_record,
    spread_note,
    verify_run,
    write_digests,
)
from harness.tables import format_cell

REFERENCE = REPO_ROOT / "reference"  # one directory per run: default (make run), robustness
DEFAULT = "default"
EMULATED = "emulated-cpu"  # make run again, under an emulated older CPU (README: Reproducibility)
OTHER_CPU = "other-cpu"  # make run again, on a CPU of another vendor or generation (README: Reproducibility)
REPEATS = {EMULATED: "under the emulated CPU", OTHER_CPU: "on the other CPU"}  # the default grid again, compared file by file
RARE_MULT = "countdown-rare-mult"  # configs/countdown-rare-mult.yaml: the sweep where exploration decides take-off
SWEEP10 = "countdown-sweep10"  # configs/countdown-sweep10.yaml: the default Countdown recipe's fixed T at 10 seeds
ARITH_HOT = "arith-hot"  # configs/arith-hot.yaml: the arithmetic recipe at T = 1.0 and 1.8
TAKE_OFF = 0.01  # train reward over a run's last third above which the run learned (Countdown base models hit under 1%)
ROBUSTNESS = {"robustness-arith": "arithmetic", "robustness-countdown": "Countdown",  # run -> testbed
              "robustness-countdown-rare-mult": "Countdown, rare multiplication"}
ROBUSTNESS_OF = {"robustness-arith": (DEFAULT, "tiny"),  # run -> the reference run and experiment of its recipe
                 "robustness-countdown": (SWEEP10, SWEEP10),  # the recipe's 100 steps (the default grid trains 70)
                 "robustness-countdown-rare-mult": (RARE_MULT, RARE_MULT)}
STD_BAR = 1.0  # points: the most a base model's Avg@n and the GRPO gain may vary across pre-training seeds
README = REPO_ROOT / "README.md"
MARKER = re.compile(r"(<!-- numbers:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /numbers:(?P=name) -->)", re.DOTALL)
LOGS = REPO_ROOT / "logs"
TABLE_FILES = ("main.csv", "main_summary.csv", "main_by_level.csv", "comparisons.csv")
FIGURES = ("reward.png", "entropy.png")  # training curves of every method, per model
BENCHMARKS = ("core", "startup", "contention", "grid", "methods")  # benchmarks/*.py whose figures the README shows (make readme-bench)
GPU_CHECK = "gpu-check"  # scripts/gpu_check.py's records, one directory per run on a GPU machine
GPU_CHECK_FILES = ("gpu_check.json", "gpu_check.log", "device-tests.xml")
PARTIAL = ".partial"  # the suffix of a run's directory while it is being copied in
BAR = 3.0  # points: the fixed-temperature sweep's spread that shows temperature matters (issue: Countdown testbed)

Block = Callable[[Path], str]
BLOCKS: dict[str, Block] = {}


def block(name: str) -> Callable[[Block], Block]:
    def register(fn: Block) -> Block:
        BLOCKS[name] = fn
        return fn

    return register


# ---------------------------------------------------------------- reading the reference copies


def value(summary: pd.DataFrame, method: str, metric: str, level: str = "all") -> pd.Series:
    rows = summary[(summary["method"] == method) & (summary["metric"] == metric) & (summary["level"] == level)]
    if len(rows) != 1:
        raise ValueError(f"reference summary: expected one row for {method} {metric} level {level}, found {len(rows)}")
    return rows.iloc[0]


def machine(state: dict, threads: int) -> str:
    """The CPU and the numerics a run or benchmark had, from its `harness.numerics.state()`."""
    cpu = state["cpu"]
    matmul = f"matrix products {state['matmul']}, " if "matmul" in state else ""  # recorded since the OpenBLAS pin
    math = (f"vector math {state['vector_math']}" if "vector_math" in state  # recorded since MKL left the pin
            else f"MKL {state['mkl_branch']}")
    kernels = (f"pinned numerics (ATen {state['aten_capability']}, {matmul}{math}), {threads} thread per job"
               if state["mode"] == "pinned" else f"native numerics (ATen {state['aten_capability']})")
    return f"{cpu['model']} ({', '.join(cpu['flags'])}), {kernels}"


def interpreter(record: dict) -> str:
    """The Python a run or benchmark ran on (recorded since the default interpreter was chosen for
    its speed: Makefile, PYTHON), or nothing for older records."""
    return f", Python {record['python']}" if "python" in record else ""


def revision(git_revision: str) -> str:
    """A commit's short hash, marked when the working tree had changes beyond it."""
    return git_revision[:10] + ("+dirty" if git_revision.endswith("+dirty") else "")


def duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s"


def run_line(record: dict) -> str:
    n = record["numerics"]
    scope = "from scratch" if record["from_scratch"] else "resumed"
    command = " ".join(["snakemake", *record["command"][1:]])
    return (f"`{command}` at revision `{revision(record['git_revision'])}`, {record['finished'][:10]}: "
            f"{machine(n, n['job_threads'])}{interpreter(record)}; {duration(record['wall_seconds'])} {scope} "
            f"({record['models_trained']} models trained, {record['cells_evaluated']} cells evaluated).")


# ---------------------------------------------------------------- the blocks


def main_table(reference: Path, exp: str) -> str:
    cfg, summary, _ = experiment(reference, exp)
    n, k = cfg.eval.n_samples, max(cfg.eval.ks)
    lines = [f"| method | Avg@{n} | Pass@{k} |", "|:--|:--|:--|"]
    for method in cfg.table_rows()["main"]:
        cells = [format_cell(value(summary, method, metric)) for metric in (f"avg@{n}", f"pass@{k}")]
        lines.append(f"| {cfg.method_label(method)} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


@block("run")
def run(root: Path) -> str:
    return run_line(run_record(root / DEFAULT)) + "\n"


@block("tiny-main")
def tiny_main(root: Path) -> str:
    return main_table(root / DEFAULT, "tiny") + main_spread_note(root, "robustness-arith", DEFAULT, "tiny")


@block("countdown-main")
def countdown_main(root: Path) -> str:
    return main_table(root / DEFAULT, "countdown") + main_spread_note(root, "robustness-countdown", DEFAULT, "countdown")


@block("tiny-findings")
def tiny_findings(root: Path) -> str:
    cfg, summary, _ = experiment(root / DEFAULT, "tiny")
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


def comparisons(reference: Path, exp: str) -> pd.DataFrame:
    """The experiment's comparisons.csv: every method against the best fixed temperature, paired."""
    return pd.read_csv(reference / exp / "tables" / "comparisons.csv")


def compared(frame: pd.DataFrame, method: str, metric: str) -> pd.Series:
    rows = frame[(frame["method"] == method) & (frame["metric"] == metric)]
    if len(rows) != 1:
        raise ValueError(f"reference comparisons: expected one row for {method} {metric}, found {len(rows)}")
    return rows.iloc[0]


def paired(row: pd.Series) -> str:
    return f"{row['difference']:+.1f} [{row['ci_low']:+.1f}, {row['ci_high']:+.1f}]"


def sweep_bar(reference: Path, exp: str) -> list[str]:
    """The fixed-temperature sweep against the bar: the best and the worst fixed T differ by at
    least BAR points in Avg@n or Pass@k with a 95% paired interval that excludes zero."""
    cfg = experiment(reference, exp)[0]
    frame = comparisons(reference, exp)
    n, k = cfg.eval.n_samples, max(cfg.eval.ks)
    fixed = fixed_temperature(cfg, list(cfg.methods))
    best = frame["reference"].iloc[0]
    sentences, met = [], []
    for metric, name in ((f"avg@{n}", f"Avg@{n}"), (f"pass@{k}", f"Pass@{k}")):
        rows = [compared(frame, m, metric) for m in fixed if m != best]
        worst = min(rows, key=lambda r: r["difference"])
        met.append(-worst["difference"] >= BAR and worst["ci_high"] < 0)
        sentences.append(f"{name}: {cfg.method_label(worst['method'])} against the best fixed temperature "
                         f"({cfg.method_label(best)}) {paired(worst)}.")
    verdict = "meets" if any(met) else "does not meet"
    return [*sentences, f"The sweep {verdict} the bar of a {BAR:.0f}-point gap with a paired 95% interval that excludes zero."]


@block("countdown-findings")
def countdown_findings(root: Path) -> str:
    reference = root / DEFAULT
    cfg, summary, _ = experiment(reference, "countdown")
    n, k = cfg.eval.n_samples, max(cfg.eval.ks)
    base = {m: value(summary, "base", m)["mean"] for m in (f"avg@{n}", f"pass@{k}")}
    gains = [value(summary, m, f"avg@{n}")["mean"] - base[f"avg@{n}"] for m in cfg.methods]
    first = (f"The base model hits the target in {base[f'avg@{n}']:.1f}% of samples (Pass@{k} {base[f'pass@{k}']:.1f}%); "
             f"GRPO raises Avg@{n} by {min(gains):.1f} to {max(gains):.1f} points.")
    return " ".join([first, *sweep_bar(reference, "countdown")]) + "\n"


def took_off(curves: pd.DataFrame, steps: int) -> pd.Series:
    """Per (method, seed) of training curves (curves.csv): whether the run learned, i.e. its mean
    train reward over the last third of its `steps` is above TAKE_OFF."""
    last = curves[curves["step"] >= steps - steps // CURVE_WINDOWS]
    return last.groupby(["method", "seed"])["reward"].mean().gt(TAKE_OFF)


def sweep_runs(root: Path, name: str, note: str = "") -> str:
    """A sweep's run (reference/{name}, whose experiment has the same name): its run line, its
    main table (then `note`), how many runs of each method took off (train reward above TAKE_OFF
    over the last third), the bar, and the fixed temperatures' curves."""
    reference = root / name
    cfg = experiment(reference, name)[0]
    runs = took_off(pd.read_csv(reference / name / "curves.csv"), cfg.train.steps).groupby("method").agg(["sum", "size"])
    counts = ", ".join(f"{cfg.method_label(m)} {runs.loc[m, 'sum']} of {runs.loc[m, 'size']}" for m in cfg.methods)
    return (run_line(run_record(reference)) + "\n\n" + main_table(reference, name) + note
            + f"\nRuns that took off (train reward above {TAKE_OFF:.0%} over the last third of the run): {counts}. "
            + " ".join(sweep_bar(reference, name)) + "\n\n" + curves_table(reference, name))


@block("countdown-rare-mult")
def countdown_rare_mult(root: Path) -> str:
    """configs/countdown-rare-mult.yaml: the sweep (`sweep_runs`), then the adaptive methods' mean
    sampling temperature per third of the run."""
    cfg = experiment(root / RARE_MULT, RARE_MULT)[0]
    adaptive = [m for m in cfg.methods if m not in fixed_temperature(cfg, list(cfg.methods))]
    return (sweep_runs(root, RARE_MULT, main_spread_note(root, "robustness-countdown-rare-mult", RARE_MULT, RARE_MULT))
            + "\nThe adaptive methods' mean sampling temperature, over seeds and thirds of the run:\n\n"
            + curves_table(root / RARE_MULT, RARE_MULT, adaptive, ("temperature_mean",)))


def shared_files(root: Path, run: str, exp: str, alike: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """Of `run`'s dataset, weight and generations files (its experiment named as the run), those
    the default grid's experiment `exp` has too and computed `alike` (the same data, base model,
    method and seed, from the same settings), and which of them differ."""
    ours, default = read_digests(root / run / DIGESTS), read_digests(root / DEFAULT / DIGESTS)
    pairs = {f: exp + f[len(run):] for f in ours if "/tables/" not in f}
    common = {f: twin for f, twin in pairs.items() if twin in default and alike(f)}
    return list(common), [f for f, twin in common.items() if ours[f] != default[twin]]


def trained_alike(ours: ExperimentConfig, theirs: ExperimentConfig) -> tuple[set[str], list[str]]:
    """The methods both experiments train with the same settings, and the `train` settings that
    differ (when any do, no method is trained alike)."""
    mine, other = ours.train.model_dump(mode="json"), theirs.train.model_dump(mode="json")
    differ = [f"train.{key} {other[key]} against {mine[key]}" for key in mine if mine[key] != other[key]]
    same = {m for m in ours.methods if m in theirs.methods and ours.methods[m] == theirs.methods[m]}
    return (set() if differ else same), differ


def computed_alike(ours: ExperimentConfig, theirs: ExperimentConfig, name: str) -> bool:
    """Whether two experiments computed the file `name` (`{exp}/...` as in files.sha256) from the
    same settings: the training set, tokenizer and base model from the same data and model
    recipe, a policy also by a method trained alike, a test set and generations also under the
    same dataset and evaluation settings."""
    parts = Path(name).parts[1:]
    trained = ours.data == theirs.data and ours.train_set == theirs.train_set
    evaluated = ours.datasets == theirs.datasets and ours.eval == theirs.eval
    if parts[0] in ("data", "tokenizer"):
        return trained and (parts[-1] == f"{ours.train_set}.jsonl" or parts[0] == "tokenizer" or evaluated)
    model, method = parts[0], parts[1]
    alike = trained and ours.models.get(model) == theirs.models.get(model)
    if method != "base":
        alike = alike and method in trained_alike(ours, theirs)[0]
    return alike and ("eval" not in parts or evaluated)


def shared_runs(root: Path, run: str, exp: str) -> str:
    """A sentence: which base model, methods and seeds `run` shares with the default grid's
    experiment `exp` (from the files both have, of methods trained alike), and whether they are
    byte-identical."""
    cfg, grid = experiment(root / run, run)[0], experiment(root / DEFAULT, exp)[0]
    train_differ = trained_alike(cfg, grid)[1]
    common, differ = shared_files(root, run, exp, lambda name: computed_alike(cfg, grid, name))
    runs = [Path(f).parts for f in common if len(Path(f).parts) > 3 and Path(f).parts[3].startswith("seed")]
    methods = [cfg.method_label(m) for m in cfg.methods if m in {parts[2] for parts in runs}]
    seeds = sorted({int(parts[3].removeprefix("seed")) for parts in runs})
    same = (f"byte-identical to the default grid's ({len(common)} dataset, weight and generations files)" if not differ
            else f"not all the default grid's ({len(differ)} of {len(common)} files differ: {', '.join(differ)})")
    if not methods:
        trained = (f"; the default grid trains with {', '.join(train_differ)}, so no run is shared" if train_differ
                   else "; it trains no method of the default grid's alike")
        return f"Its data and base model are {same}{trained}.\n"
    listed = ", ".join(methods[:-1]) + f" and {methods[-1]}" if len(methods) > 1 else "".join(methods)
    return f"Its data, base model and seeds {seeds[0]}-{seeds[-1]} of {listed} are {same}.\n"


@block("countdown-sweep10")
def countdown_sweep10(root: Path) -> str:
    """configs/countdown-sweep10.yaml: the default Countdown recipe's fixed temperatures at 10
    seeds (`sweep_runs`), and whether the runs it shares with the default grid have its bits."""
    return sweep_runs(root, SWEEP10) + "\n" + shared_runs(root, SWEEP10, "countdown")


@block("arith-hot")
def arith_hot(root: Path) -> str:
    """configs/arith-hot.yaml: fixed T = 1.0 and 1.8 on the arithmetic recipe (`sweep_runs`),
    and whether the runs it shares with the default grid have its bits."""
    return sweep_runs(root, ARITH_HOT) + "\n" + shared_runs(root, ARITH_HOT, "tiny")


CLAIMS = {  # controller -> what its paper claims against fixed-temperature GRPO
    "tampo": "TAMPO beats the best fixed temperature (TAMPO Table 1)",
    "introllm": "IntroLLM beats fixed-temperature GRPO (IntroLLM Table 1)",
    "ead": "EAD beats fixed-temperature GRPO (EAD)",
    "entropy": "entropy-based token temperatures beat a fixed temperature (multi-temperature)",
    "multi_rollout": "several temperatures per prompt beat one (multi-temperature)",
    "spike": "temperature spikes beat a fixed temperature (multi-temperature)",
    "linear": "a rising temperature schedule beats a fixed one (TAMPO baseline / multi-temperature)",
}
READING = {"better": "holds", "worse": "fails (worse)", "equivalent": "fails (equivalent)", "undecided": "undecided"}


def testbeds(root: Path) -> list[tuple[Path, str]]:
    """(reference run, experiment) of every testbed the README judges methods on: the default
    grid's experiments, then the rare-multiplication Countdown recipe."""
    return [(root / DEFAULT, e) for e in run_record(root / DEFAULT)["experiments"]] + [(root / RARE_MULT, RARE_MULT)]


@block("claims")
def claims(root: Path) -> str:
    """Each adaptive method's claim against the best fixed temperature, on every testbed: the
    paired difference [95% interval] of Avg@n (and on the rare-multiplication recipe, whose
    temperatures differ in Pass@k, of Pass@k) and what it says (holds / fails / undecided)."""
    columns = [(ref, exp, "avg") for ref, exp in testbeds(root)] + [(root / RARE_MULT, RARE_MULT, "pass")]
    frames = {exp: comparisons(ref, exp) for ref, exp, _ in columns}
    first = experiment(*columns[0][:2])[0]  # its methods, labels and n, k name the rows and metrics
    n, k = first.eval.n_samples, max(first.eval.ks)
    metric = {"avg": (f"avg@{n}", f"Avg@{n}"), "pass": (f"pass@{k}", f"Pass@{k}")}
    lines = ["| method | claim | " + " | ".join(f"{exp}: {metric[m][1]} vs best fixed T" for _, exp, m in columns) + " |",
             "|:--|:--|" + ":--|" * len(columns)]
    for method in first.methods:
        controller = first.controller_spec(method)["controller"]
        if controller not in CLAIMS:
            continue
        cells = []
        for _, exp, m in columns:
            row = compared(frames[exp], method, metric[m][0])
            cells.append(f"{paired(row)} {READING[row['verdict']]}; MDD {row['mdd']:.1f}, "
                         f"paired/unpaired width {row['width_ratio']:.2f}")
        lines.append(f"| {first.method_label(method)} | {CLAIMS[controller]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@block("cost")
def cost(root: Path) -> str:
    """What the default grid costs: the wall seconds of its jobs by kind and experiment, the
    quiet-machine bound it implies, and each method's training time relative to fixed-temperature
    GRPO at T = 1.0. Wall, not CPU time: every job runs one thread and the reference run has the
    machine to itself, and Snakemake's `benchmark:` samples a job's CPU time every 30 s after its
    first 15, so it misses up to 30 s of each job (a 40-s training job read 13-27 CPU s). A
    training job also evaluates the model it trained, and that model's evaluation jobs adopt the
    results (harness.handoff): their seconds are the adoption's, the base model's are evaluations."""
    reference = root / DEFAULT
    record = run_record(reference)
    lines = ["| experiment | jobs | pre-training (s) | training, with the trained model's evaluation (s) | evaluation jobs (s) "
             "| all jobs (s) | model TFLOP |",
             "|:--|--:|--:|--:|--:|--:|--:|"]
    ratios, total, gflop = [], 0.0, 0.0
    for exp in record["experiments"]:
        cfg = experiment(reference, exp)[0]
        jobs = pd.read_csv(reference / exp / "jobs.csv")
        by_kind = jobs.groupby("kind")["wall_s"].sum()
        total, gflop = total + jobs["wall_s"].sum(), gflop + jobs["gflop"].sum()
        lines.append(f"| {exp} | {len(jobs)} | " + " | ".join(f"{by_kind.get(k, 0.0):.0f}" for k in JOB_KINDS)
                     + f" | {jobs['wall_s'].sum():.0f} | {jobs['gflop'].sum() / 1e3:.1f} |")
        train = jobs.query("kind == 'train'").groupby("method")["wall_s"].mean()
        ratios.append(f"{exp}: " + ", ".join(f"{cfg.method_label(m)} {train[m] / train[REFERENCE_METHOD]:.2f}" for m in cfg.methods))
    bound = total / record["cores"] / 60
    return ("\n".join(lines) + f"\n\nJob seconds over the {record['cores']} cores: {bound:.0f} min, against the run's "
            f"{duration(record['wall_seconds'])} (the rest: the dataset, tokenizer, table, figure and report jobs and Snakemake between jobs). "
            f"Model work (harness/model_flops.py: 2 FLOPs per weight and token forward, 6 trained): {gflop / 1e3:.1f} TFLOP, "
            f"{gflop / record['wall_seconds']:.1f} GFLOP/s over the run's wall time; against the CPU's peak: benchmarks/grid.py "
            "(Measured figures). "
            f"Training time per job relative to {REFERENCE_METHOD} (mean over seeds, process start included; methods also "
            "change what is generated, e.g. longer responses): " + "; ".join(ratios) + ".\n")


def with_default_model(root: Path, run_name: str) -> tuple[ExperimentConfig, str, pd.Series, pd.Series]:
    """`base_spread` of a robustness run with its recipe's own base model (pre-training seed 0,
    ROBUSTNESS_OF) appended: its Avg@n, and its gain as the mean over that experiment's GRPO seeds."""
    cfg, method, base, gain = base_spread(root / run_name)
    n = cfg.eval.n_samples
    run, exp = ROBUSTNESS_OF[run_name]
    summary = experiment(root / run, exp)[1]
    own_base = value(summary, "base", f"avg@{n}")["mean"]
    own_gain = value(summary, method, f"avg@{n}")["mean"] - own_base
    return cfg, method, pd.concat([base, pd.Series([own_base])]), pd.concat([gain, pd.Series([own_gain])])


def main_spread_note(root: Path, run_name: str, run: str, exp: str) -> str:
    """Under the README main table of `exp` in reference `run`: what its intervals leave out, over
    every base model measured (the robustness run's and this table's own), and over how many GRPO
    steps the gains were measured where the table trains another number."""
    if not (root / run_name).exists():
        return spread_note(root / run_name, "Robustness, below")
    cfg, method, base, gain = with_default_model(root, run_name)
    steps = experiment(root / run, exp)[0].train.steps
    trained = "" if steps == cfg.train.steps else f", the gains over the recipe's {cfg.train.steps} GRPO steps, not {steps}"
    return (f"\nThe intervals cover training and sampling seeds of one base model. Across {len(base)} pre-training "
            f"seeds (this one and {len(base) - 1} of the robustness run{trained}; Robustness, below) the base model's "
            f"Avg@{cfg.eval.n_samples} has a std of {base.std():.1f} points and the gain of {cfg.method_label(method)} "
            f"one of {gain.std():.1f}: rerun from another base model, a row's level moves by about that much, beside its "
            "interval; differences between methods trained from the same base model are what these tables compare.\n")


@block("robustness")
def robustness(root: Path) -> str:
    """The base model pre-trained from several seeds, each then GRPO-trained at T = 1.0: the
    spread of its Avg@n and of the GRPO gain across pre-training seeds, against STD_BAR."""
    lines = []
    for run_name, testbed in ROBUSTNESS.items():
        reference = root / run_name
        if not reference.exists():
            lines.append(f"- {testbed}: not measured yet (`make robustness` writes `reference/{run_name}/`).")
            continue
        record = run_record(reference)
        cfg, method, base, gain = base_spread(reference)
        n = cfg.eval.n_samples
        verdict = "within" if max(base.std(), gain.std()) <= STD_BAR else "outside"
        six_base, six_gain = with_default_model(root, run_name)[2:]
        own_base, own_gain = six_base.iloc[-1], six_gain.iloc[-1]
        verdict_six = "within" if max(six_base.std(), six_gain.std()) <= STD_BAR else "outside"
        lines.append(
            f"- {testbed} ({len(cfg.models)} pre-training seeds, `{cfg.name}`): base model Avg@{n} "
            f"{' / '.join(f'{v:.1f}' for v in base)} (std {base.std():.2f} points); gain of {cfg.method_label(method)} "
            f"{' / '.join(f'{v:+.1f}' for v in gain)} (std {gain.std():.2f}); {verdict} the bar of {STD_BAR:g} point. "
            f"The base model of `{ROBUSTNESS_OF[run_name][1]}` (seed 0) scores {own_base:.1f} and gains "
            f"{own_gain:+.1f} (mean over its GRPO seeds); with it, {len(six_base)} seeds: std {six_base.std():.2f} and "
            f"{six_gain.std():.2f}, {verdict_six} the bar. " + run_line(record)
        )
    return "\n".join(lines) + "\n"


COMPARED_WITH = "compared_with.json"  # in each repeat's reference/{name}: the reference run it was compared with


def reference_digests(reference: Path) -> dict[str, Any]:
    """A reference run's revision and the sha256 of each of its files (its `files.sha256`)."""
    return {"git_revision": run_record(reference)["git_revision"], "files": read_digests(reference / DIGESTS)}


def repeat_block(root: Path, name: str) -> str:
    """The default grid run again (`reference/{name}`, one of REPEATS): whether its dataset,
    weight, generations and table files equal, byte for byte, those of the reference run it was
    snapshotted beside (their digests are kept with it, so the comparison outlives a later
    reference run), and whether that is still the current reference run."""
    other = root / name
    then = json.loads((other / COMPARED_WITH).read_text())
    differ = compare_digests(then["files"], read_digests(other / DIGESTS))
    record = run_record(other)
    caps = ", ".join(f"{k}={v}" for k, v in record["numerics"]["environment"].items() if k in numerics.DISPATCH_CAPS and v)
    n, at = len(then["files"]), f"revision `{revision(then['git_revision'])}`"
    same = (f"all {n} dataset, weight, generations and table files are byte-identical to the reference run's ({at})"
            if not differ else f"{len(differ)} differences from the reference run's {n} files ({at}): {', '.join(differ)}")
    current = run_record(root / DEFAULT)["git_revision"]
    return (run_line(record) + f" Set: {caps or 'no dispatch cap'}; {same}."
            f"{later_run(root, name, current, then['git_revision'])}\n")


@block(EMULATED)
def emulated_cpu(root: Path) -> str:
    """The default grid run a second time on the reference run's machine under an emulated older CPU."""
    return repeat_block(root, EMULATED)


@block(OTHER_CPU)
def other_cpu(root: Path) -> str:
    """The default grid run a second time on a CPU of another vendor or generation."""
    return repeat_block(root, OTHER_CPU)


def later_run(root: Path, name: str, current: str, compared: str) -> str:
    """When the current reference run is not the one the repeat `name` was compared with: that it
    was not repeated, and whether the dataset, weight and generations files the two runs share
    (tables depend on which methods a run has) are byte-identical."""
    if current == compared:
        return ""
    now, repeat = read_digests(root / DEFAULT / DIGESTS), read_digests(root / name / DIGESTS)
    configs = {run: {exp: load_config(raw) for exp, raw in run_record(root / run)["experiments"].items()}
               for run in (DEFAULT, name)}
    common = [f for f in now if f in repeat and "/tables/" not in f
              and computed_alike(configs[DEFAULT][f.split("/")[0]], configs[name][f.split("/")[0]], f)]
    differ = [f for f in common if now[f] != repeat[f]]
    shared = (f"the {len(common)} dataset, weight and generations files it shares with that run, computed "
              "from the same settings, are byte-identical to that run's" if not differ
              else f"{len(differ)} of the {len(common)} dataset, weight and generations files it shares with that "
                   f"run, computed from the same settings, differ from that run's: {', '.join(differ)}")
    return (f" The current reference run (revision `{revision(current)}`) is later and has not been repeated "
            f"{REPEATS[name]}; {shared}.")


@block("power")
def power(root: Path) -> str:
    """What each testbed can resolve: the minimum detectable difference of Avg@n against the best
    fixed temperature, how much pairing narrows the interval, and the seeds that would detect
    `statistics.detect` points for every method."""
    sentences = []
    for reference, exp in testbeds(root):
        cfg = experiment(reference, exp)[0]
        n = cfg.eval.n_samples
        frame = comparisons(reference, exp)
        rows = frame[(frame["metric"] == f"avg@{n}") & (frame["method"] != "base")]
        detect = cfg.statistics.detect
        needed = rows["seeds_needed"]
        most = "more than 1000" if needed.isna().any() else f"{int(needed.max())}"
        verdict = "within" if rows["mdd"].max() <= detect else "above"
        sentences.append(
            f"{exp}: against {cfg.method_label(rows['reference'].iloc[0])}, the minimum detectable difference of Avg@{n} is "
            f"{rows['mdd'].min():.1f}-{rows['mdd'].max():.1f} points ({int(rows['seeds'].iloc[0])} seeds x "
            f"{int(rows['problems'].iloc[0])} problems x {n} samples; {verdict} the {detect:g}-point goal); the paired "
            f"interval is {rows['width_ratio'].min():.2f}-{rows['width_ratio'].max():.2f} times as wide as the unpaired "
            f"(Welch) one; detecting {detect:g} points for every method would take {most} seeds."
        )
    return "\n".join(f"- {s}" for s in sentences) + "\n"


CURVE_COLUMNS = ("reward", "entropy", "response_length", "temperature_mean")
CURVE_WINDOWS = 3  # the run cut into first, middle and last thirds
CURVE_CELLS = {  # column -> (its name in a table's header, how a cell shows it)
    "reward": ("reward", lambda v: f"{100 * v:.1f}%"),
    "entropy": ("entropy", lambda v: f"{v:.3f}"),
    "temperature_mean": ("mean T", lambda v: f"{v:.2f}"),
}


def curves_table(reference: Path, exp: str, methods: list[str] | None = None,
                 columns: tuple[str, ...] = ("reward", "entropy")) -> str:
    """Training curves (reference/{run}/{exp}/curves.csv) of `methods` (default: the fixed
    temperatures): each of `columns` as its mean over seeds and over each third of the run."""
    cfg = experiment(reference, exp)[0]
    curves = pd.read_csv(reference / exp / "curves.csv")
    steps = cfg.train.steps
    edges = [round(i * steps / CURVE_WINDOWS) for i in range(CURVE_WINDOWS + 1)]
    spans = [f"steps {lo}-{hi - 1}" for lo, hi in zip(edges, edges[1:])]
    curves["span"] = pd.cut(curves["step"], edges, right=False, labels=spans)
    means = curves.groupby(["method", "span"], observed=True)[list(columns)].mean()
    lines = ["| method | " + " | ".join(f"{CURVE_CELLS[c][0]}, {s}" for c in columns for s in spans) + " |",
             "|:--|" + "--:|" * (len(columns) * len(spans))]
    for method in methods or fixed_temperature(cfg, list(cfg.methods)):
        cells = [CURVE_CELLS[c][1](means.loc[(method, s), c]) for c in columns for s in spans]
        lines.append(f"| {cfg.method_label(method)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@block("countdown-curves")
def countdown_curves(root: Path) -> str:
    return curves_table(root / DEFAULT, "countdown")


def training_curves(results: Path, exp: str, cfg: ExperimentConfig) -> pd.DataFrame:
    """Per step and seed, every method's training metrics (CURVE_COLUMNS)."""
    frames = []
    for model in cfg.models:
        for method in cfg.methods:
            for seed in cfg.method_seeds(method):
                log = results / exp / model / method / f"seed{seed}" / "train" / "metrics.jsonl"
                rows = pd.read_json(log, lines=True)[["step", *CURVE_COLUMNS]]
                frames.append(rows.assign(model=model, method=method, seed=seed))
    return pd.concat(frames)[["model", "method", "seed", "step", *CURVE_COLUMNS]]


# ---------------------------------------------------------------- job times

JOB_KINDS = ("base_model", "train", "eval")
REFERENCE_METHOD = "grpo-t1.0"


def job_times(logs: Path) -> pd.DataFrame:
    """One row per job of an experiment from Snakemake's `benchmark:` files
    (logs/{exp}/{model}/base_model.time.tsv, .../{method}/seed{seed}/train.time.tsv and
    .../eval-{benchmark}.time.tsv): kind, model, method, seed, wall and CPU seconds."""
    rows = []
    for path in sorted(logs.glob("**/*.time.tsv")):
        parts = path.relative_to(logs).parts
        stem = path.name.removesuffix(".time.tsv")
        kind = "eval" if stem.startswith("eval-") else stem
        if kind not in JOB_KINDS:
            raise ValueError(f"{path}: not a job time file of the workflow ({', '.join(JOB_KINDS)})")
        times = pd.read_csv(path, sep="\t").iloc[-1]
        method, seed = (parts[1], int(parts[2].removeprefix("seed"))) if kind != "base_model" else ("base", None)
        rows.append({"kind": kind, "model": parts[0], "method": method, "seed": seed, "job": stem,
                     "wall_s": float(times["s"]), "cpu_s": float(times["cpu_time"])})
    return pd.DataFrame(rows, columns=["kind", "model", "method", "seed", "job", "wall_s", "cpu_s"])


# ---------------------------------------------------------------- benchmark figures


def record_benchmark(script: Path, out: Path, revision: str) -> dict:
    """Run a benchmark script (it pins the numerics of a pipeline job itself) and keep what it
    printed with the machine, numerics, `revision` (of the code it ran, taken before any record
    is written) and wall time: `out` (JSON), written atomically."""
    numerics.configure(1)  # what the script's parse_args sets up (1 thread): state() then describes its process
    start = time.time()
    printed = subprocess.run([sys.executable, str(script)], check=True, capture_output=True, text=True,
                             cwd=script.parent).stdout
    record = {"command": f"python benchmarks/{script.name}", "git_revision": revision, "finished": iso_time(time.time()),
              "wall_seconds": time.time() - start, "numerics": numerics.state(), "python": python_build(), "output": printed}
    write_json(out, record)
    return record


def benchmark_block(record: dict) -> str:
    """A benchmark's printed Markdown (its headings one level down, the model path dropped)
    under the line that says where and when it ran."""
    lines = [line.replace("### ", "#### ", 1) if line.startswith("### ") else line
             for line in record["output"].strip().splitlines() if not line.startswith("model: ")]
    n = record["numerics"]
    head = (f"`{record['command']}` at revision `{revision(record['git_revision'])}`, {record['finished'][:10]}: "
            f"{machine(n, n['torch_threads'])}{interpreter(record)}; {duration(record['wall_seconds'])}.")
    return head + "\n" + "\n".join(lines).strip("\n") + "\n"


for _name in BENCHMARKS:
    block(f"bench-{_name}")(lambda root, name=_name: benchmark_block(json.loads((root / "benchmarks" / f"{name}.json").read_text())))


def gpu_figures(record: dict) -> dict[str, str]:
    """One run of the prepared GPU check (scripts/gpu_check.py's record): each figure, as text;
    a failed step's figures say that it failed and why."""
    steps = record["steps"]
    tests, train, fsdp, scale = steps["tests"], steps["train"], steps["fsdp"], steps["scale"]

    def step(name: str, text: Callable[[], str]) -> str:
        if "error" in steps[name]:  # the step raised: no figures
            return f"failed: {steps[name]['error']}"
        return text() if steps[name]["ok"] else f"{text()}: outside the step's bar"

    def per_step(run: dict) -> str:
        return f"{run['seconds_per_step']:.3f} ({run['logprob_mismatch_max']:.1e})"

    def peak(gib: float | None) -> str:
        return "not measured on the CPU" if gib is None else f"{gib:.1f}"

    def tokens_per_s(key: str) -> str:
        return f"{scale[key]:,.0f}" if key in scale else "not measured (added to the check later)"

    figures = {
        "started (the machine's clock)": record["started"],
        "revision": revision(record["git_revision"]) if "git_revision" in record else "not recorded (before the check did)",
        "GPU": f"{record['gpu']}, {record['gpu_memory_gib']} GiB" if "gpu" in record else f"none: run on the {record['device']}",
        "software": f"torch {record['torch']} (CUDA {record['cuda']}), transformers {record['transformers']}, "
                    f"Python {record['python']}; {len(record['installed'])} distributions installed offline",
        "device tests on CUDA (`pytest -m device -k cuda`)":
            step("tests", lambda: f"{tests['tests'] - tests['failures'] - tests['errors']} of {tests['tests']} passed"),
    }
    if "error" in train:
        figures["GRPO steps, tiny setting"] = step("train", str)
    for method in (m for m in train if isinstance(train[m], dict)):
        figures[f"{train[method]['steps']} GRPO steps of {method}, tiny setting: s/step (max log-prob mismatch)"] = step(
            "train", lambda method=method: per_step(train[method]))
    figures["the fixed-T run under torchrun, 1 process, FSDP2 on NCCL: s/step (mismatch)"] = step(
        "fsdp", lambda: per_step(fsdp))
    figures["0.5B Qwen2-shaped model, 64 rows x 512 new tokens (eos suppressed): our sampler, tokens/s"] = step(
        "scale", lambda: tokens_per_s("sampler_tokens_per_s"))
    figures["the same with stock `generate`, tokens/s"] = step("scale", lambda: tokens_per_s("generate_tokens_per_s"))
    for key in (k for k in scale if k.startswith("train_step_") and k.endswith("_s")):
        length, chunk = key.split("_")[2], key.split("_")[-2]
        label = "log-probs unchunked" if chunk == "none" else f"log-probs in chunks of {chunk}"
        figures[f"a training step on a {length}-token response, {label}: s (peak GiB)"] = step(
            "scale", lambda key=key: f"{scale[key]:.3f} ({peak(scale[key.removesuffix('_s') + '_peak_gib'])})")
    figures[f"bf16 matrix product, {scale.get('bf16_matmul_shape', 'n')}^3: TFLOP/s (share of the card's dense peak)"] = step(
        "scale", lambda: f"{scale['bf16_matmul_tflops']:.1f} " + (
            f"({scale['bf16_matmul_utilisation']:.0%} of {scale['bf16_peak_tflops']:.0f})" if scale["bf16_peak_tflops"]
            else "(no peak known for this device)"))
    figures["every step passed"] = "yes" if record["ok"] else "no"
    return figures


@block(GPU_CHECK)
def gpu_check(root: Path) -> str:
    """Every run of the prepared GPU check kept under reference/gpu-check/, one column each."""
    runs = sorted(p for p in (root / GPU_CHECK).glob("*/gpu_check.json") if not p.parent.name.endswith(PARTIAL))
    if not runs:
        return "No run of the GPU check is kept yet.\n"
    columns = {f"run {i}": gpu_figures(json.loads(path.read_text())) for i, path in enumerate(runs, 1)}
    frame = pd.DataFrame(columns).fillna("—")
    frame.index.name = "figure"
    return frame.to_markdown() + "\n"


def keep_gpu_check(out: Path, reference: Path) -> Path:
    """Copy a GPU check's record, log and test report from its output directory `out` into
    `reference`/gpu-check/<when it started>/, whole or not at all."""
    record = json.loads((out / GPU_CHECK_FILES[0]).read_text())
    target = reference / GPU_CHECK / record["started"].replace(" ", "_").replace(":", "")
    partial = target.with_name(target.name + PARTIAL)  # a copy killed half-way is never rendered
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in GPU_CHECK_FILES:
        if (out / name).exists():
            shutil.copy2(out / name, partial / name)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


# ---------------------------------------------------------------- snapshot, render, rewrite


def snapshot(results: Path, reference: Path, logs: Path = LOGS) -> None:
    """Copy the last run's record (`results/run.json`), each of its experiments' tables and its
    jobs' times (`logs/{exp}/`) with their model FLOPs (harness.model_flops) into `reference` (one
    run's directory), replacing what was there only once the whole copy is made: a snapshot that
    fails or is killed half-way leaves the previous one as it was."""
    record_path = results / "run.json"
    if not record_path.exists():
        raise FileNotFoundError(f"{record_path} does not exist: run the pipeline (make run) first")
    experiments = json.loads(record_path.read_text())["experiments"]
    missing = [str(results / e / "tables" / f) for e in experiments for f in TABLE_FILES if not (results / e / "tables" / f).exists()]
    if missing:
        raise FileNotFoundError(f"the last run did not produce {missing}: rerun make run")
    staging, replaced = (reference.with_name(f".{reference.name}.{part}") for part in ("partial", "replaced"))
    for leftover in (staging, replaced):  # of a snapshot killed before
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        copy_run(results, experiments, staging, logs)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if reference.exists():
        reference.rename(replaced)
    staging.rename(reference)
    shutil.rmtree(replaced, ignore_errors=True)


def copy_run(results: Path, experiments: dict[str, dict], reference: Path, logs: Path) -> None:
    """What `snapshot` keeps of a run, written into the new directory `reference`."""
    for exp in experiments:
        (reference / exp / "tables").mkdir(parents=True)
        for name in TABLE_FILES:
            shutil.copyfile(results / exp / "tables" / name, reference / exp / "tables" / name)
        jobs = job_times(logs / exp)
        jobs["gflop"] = [job_flops(results.parent, exp, job) / 1e9 for job in jobs.to_dict("records")]
        jobs.to_csv(reference / exp / "jobs.csv", index=False)
        training_curves(results, exp, load_config(experiments[exp])).to_csv(reference / exp / "curves.csv", index=False)
        for model in experiments[exp]["models"]:
            for figure in FIGURES:
                source = results / exp / "figures" / model / figure
                (reference / exp / "figures" / model).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, reference / exp / "figures" / model / figure)
    shutil.copyfile(results / "run.json", reference / "run.json")
    write_digests(reference / DIGESTS, run_digests(results, experiments))


def render(text: str, root: Path = REFERENCE) -> dict[str, str]:
    """Every block that `text` marks, rendered from the reference runs under `root`."""
    return {name: BLOCKS[name](root) for name in blocks_in(text) if name in BLOCKS}


def blocks_in(text: str) -> dict[str, str]:
    return {m.group("name"): m.group("body") for m in MARKER.finditer(text)}


def rewrite(text: str, rendered: dict[str, str]) -> str:
    """`text` with the body of every marked block replaced by its rendering."""
    unknown = sorted(set(blocks_in(text)) - set(rendered))
    if unknown:
        raise ValueError(f"README blocks {unknown} have no renderer; known: {sorted(rendered)}")
    return MARKER.sub(lambda m: m.group(1) + rendered[m.group("name")] + m.group(4), text)


def verify(results: Path, reference: Path) -> int:
    """Print how a run's files compare with a reference run's; 0 when all are byte-identical."""
    problems = verify_run(results, reference)
    n = len(read_digests(reference / DIGESTS))
    of = f"those of the reference run {reference.name} (revision `{revision(run_record(reference)['git_revision'])}`)"
    print(f"{results}: all {n} dataset, weight, generations and table files are byte-identical to {of}"
          if not problems else f"{results}: {len(problems)} differences from {of}, {n} files:\n  " + "\n  ".join(problems))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", action="store_true",
                        help="first copy the last run's record, tables and job times (results/, logs/) into reference/")
    parser.add_argument("--run-dir", type=Path, default=REPO_ROOT,
                        help="the checkout whose results/ and logs/ --snapshot copies (default: this one)")
    parser.add_argument("--as", dest="run", choices=(DEFAULT, *REPEATS, *ROBUSTNESS, RARE_MULT, SWEEP10, ARITH_HOT),
                        default=DEFAULT,
                        help=f"which reference run the snapshot replaces: {DEFAULT} (make run), {EMULATED} (make run "
                             f"under an emulated older CPU), {OTHER_CPU} (make run on another CPU), one of {', '.join(ROBUSTNESS)} (configs/robustness/*.yaml; "
                             f"README: Reproducibility), {RARE_MULT}, {SWEEP10} or {ARITH_HOT} (configs/{{name}}.yaml; README: The "
                             "Countdown testbed)")
    parser.add_argument("--bench", nargs="+", choices=BENCHMARKS, default=[],
                        help="first run these benchmarks (benchmarks/NAME.py) and keep their figures in reference/benchmarks/")
    parser.add_argument("--gpu-check", nargs="+", type=Path, default=[], metavar="OUT",
                        help="first keep these runs of the GPU check (make gpu-check GPU_OUT=OUT) in reference/gpu-check/")
    parser.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    parser.add_argument("--verify", type=Path, metavar="RUN_DIR",
                        help="only check that the run in RUN_DIR (its results/) made the files of the reference run "
                             "--as names, byte for byte (make verify)")
    args = parser.parse_args(argv)
    if args.verify:
        raise SystemExit(verify(args.verify / "results", REFERENCE / args.run))
    if args.snapshot:
        snapshot(args.run_dir / "results", REFERENCE / args.run, args.run_dir / "logs")
        if args.run in REPEATS:  # what a repeat of the default grid is compared with, kept beside it
            write_json(REFERENCE / args.run / COMPARED_WITH, reference_digests(REFERENCE / DEFAULT))
    for out in args.gpu_check:
        print(f"{out}: kept in {keep_gpu_check(out, REFERENCE).relative_to(REPO_ROOT)}")
    code = git_revision()  # before the records below make the tree differ from it
    for name in args.bench:
        print(f"benchmarks/{name}.py ...", flush=True)
        record_benchmark(REPO_ROOT / "benchmarks" / f"{name}.py", REFERENCE / "benchmarks" / f"{name}.json", code)
    text = README.read_text()
    new = rewrite(text, render(text))
    if args.check:
        raise SystemExit(0 if new == text else "README.md's numbers differ from reference/: run make readme-numbers")
    README.write_text(new)
    print(f"README.md: {len(blocks_in(new))} blocks rendered from {REFERENCE.relative_to(REPO_ROOT)}/")


if __name__ == "__main__":
    main()
