"""results/{exp}/tables/comparisons.{md,csv}: every method of the main table against one
reference method, on every benchmark and the Average, through harness.compare: the paired
difference, its 95% interval and verdict, the unpaired (Welch) interval and the width ratio,
the minimum detectable difference at this design and the seeds that would detect
`statistics.detect` points, and the measured variance components (for sizing a grid with
harness.power).

The reference is `statistics.reference`, or else the best fixed-temperature GRPO method:
among the main table's methods with `controller: fixed`, the one with the highest mean over
seeds of Avg@n on the Average over the benchmarks (on the benchmark, when there is one); ties
go to the earlier row. Picking it on the same data favours it slightly (the winner's curse),
so `better` against it is a conservative reading.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.compare import Panel, compare
from harness.config import ExperimentConfig
from harness.io import atomic_path
from harness.outcomes import Cell, Item, generation_paths, panel
from harness.power import VarianceComponents, minimum_detectable_difference, seeds_needed
from harness.tables import AVERAGE


def fixed_temperature(cfg: ExperimentConfig, methods: list[str]) -> list[str]:
    """The methods among `methods` that are GRPO at one fixed temperature."""
    return [m for m in methods if m != "base" and cfg.controller_spec(m)["controller"] == "fixed"]


def best(panels: dict[str, Panel], methods: list[str]) -> str:
    """The method with the highest mean over seeds; ties go to the earlier one."""
    return max(methods, key=lambda m: float(panels[m].per_seed().mean()))


def columns(cfg: ExperimentConfig) -> list[tuple[str, list[Item]]]:
    """(name, items) of every benchmark, then the Average over them when there are several."""
    benchmarks = cfg.eval.benchmarks
    single = [(b, [(b, "all")]) for b in benchmarks]
    return single + ([(AVERAGE, [(b, "all") for b in benchmarks])] if len(benchmarks) > 1 else [])


def reference_method(cfg: ExperimentConfig, generations: dict[Cell, Path], model: str) -> str:
    """The configured reference, or the best fixed-temperature method (module docstring)."""
    if cfg.statistics.reference is not None:
        return cfg.statistics.reference
    rows = cfg.table_rows()["main"]
    fixed = fixed_temperature(cfg, rows)
    if not fixed:
        raise ValueError(f"statistics.reference: the main table {rows} has no fixed-temperature method "
                         "(controller: fixed) to compare with; name one of its rows")
    _, items = columns(cfg)[-1]
    metric = f"avg@{cfg.eval.n_samples}"
    return best({m: panel(generations, model, m, cfg.method_seeds(m), items, metric) for m in fixed}, fixed)


def comparisons_frame(cfg: ExperimentConfig, generations: dict[Cell, Path]) -> pd.DataFrame:
    """One row per (model, method, benchmark or Average, metric): method against reference."""
    stats, rows = cfg.statistics, cfg.table_rows()["main"]
    metrics = [f"avg@{cfg.eval.n_samples}"] + [f"pass@{k}" for k in cfg.eval.ks if k > 1]
    out = []
    for model in cfg.models:
        reference = reference_method(cfg, generations, model)
        cases = [(name, items, metric) for name, items in columns(cfg) for metric in metrics]
        refs = {(name, metric): panel(generations, model, reference, cfg.method_seeds(reference), items, metric)
                for name, items, metric in cases}
        for method in (m for m in rows if m != reference):
            for name, items, metric in cases:
                ours, ref = panel(generations, model, method, cfg.method_seeds(method), items, metric), refs[(name, metric)]
                c = compare(ours, ref, stats.margin, stats.detect)
                out.append({
                    "model": model, "method": method, "reference": reference, "benchmark": name, "metric": metric,
                    "mean": float(ours.per_seed().mean()), "reference_mean": float(ref.per_seed().mean()),
                    "difference": c.difference, "ci_low": c.low, "ci_high": c.high, "verdict": c.verdict,
                    "unpaired_low": c.unpaired_low, "unpaired_high": c.unpaired_high, "width_ratio": c.width_ratio,
                    "seeds": c.seeds, "problems": c.problems, "samples": c.samples, "mdd": c.mdd,
                    "detect": c.detect, "seeds_needed": c.seeds_needed, "var_seed": c.components.seed,
                    "var_problem": c.components.problem, "var_within": c.components.within,
                    "var_sample": c.components.sample,
                })
    return pd.DataFrame(out).astype({"samples": "Int64", "seeds_needed": "Int64"})


def write_comparisons(cfg: ExperimentConfig, frame: pd.DataFrame, stem: Path) -> None:
    """{stem}.md (readable) and {stem}.csv (every number)."""
    def signed(x: float) -> str:
        return f"{x:+.1f}"

    needed = [("–" if np.isnan(m) else ">1000" if pd.isna(s) else str(int(s)))
              for m, s in zip(frame["mdd"], frame["seeds_needed"])]
    shown = pd.DataFrame({
        "model": frame["model"], "method": frame["method"], "benchmark": frame["benchmark"],
        "metric": frame["metric"].str.replace("avg@", "Avg@").str.replace("pass@", "Pass@"),
        "difference [95% CI]": [f"{signed(d)} [{signed(lo)}, {signed(hi)}]"
                                for d, lo, hi in zip(frame["difference"], frame["ci_low"], frame["ci_high"])],
        "verdict": frame["verdict"],
        "unpaired (Welch) [95% CI]": [f"[{signed(lo)}, {signed(hi)}]" for lo, hi in zip(frame["unpaired_low"], frame["unpaired_high"])],
        "width paired / unpaired": frame["width_ratio"].map("{:.2f}".format),
        "MDD": frame["mdd"].map(lambda m: "–" if np.isnan(m) else f"{m:.1f}"),
        f"seeds for {cfg.statistics.detect:g} points": needed,
    })
    references = ", ".join(f"{m}: {r}" for m, r in dict(zip(frame["model"], frame["reference"])).items())
    title = f"{cfg.name}: every method against the reference ({references}), paired, points"
    how = (f"Paired by seed, problem and sample; 95% intervals over seeds x problems (harness/compare.py). "
           f"Verdicts with margin ±{cfg.statistics.margin:g} point(s). MDD: the minimum detectable difference "
           f"(80% power, 5% two-sided) at this experiment's seeds x problems; seeds for {cfg.statistics.detect:g} "
           f"points: the seeds whose MDD is {cfg.statistics.detect:g} at these problems (>1000: more problems needed).")
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(f"# {title}\n\n{how}\n\n" + shown.to_markdown(index=False, disable_numparse=True) + "\n")
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        frame.to_csv(tmp, index=False)


def sizing(frame: pd.DataFrame, seeds: int | None, problem_scale: float, samples: int | None,
           detect: float) -> pd.DataFrame:
    """Every comparison of `frame` (comparisons.csv) at another design, from its measured
    variance components: the MDD with `seeds` (default: as measured), the problems scaled by
    `problem_scale` and `samples` per problem, and the seeds that would detect `detect` points."""
    out = []
    for _, row in frame.iterrows():
        sample = None if pd.isna(row["var_sample"]) else float(row["var_sample"])
        c = VarianceComponents(row["var_seed"], row["var_problem"], row["var_within"], sample,
                               None if pd.isna(row["samples"]) else int(row["samples"]))
        s = seeds or int(row["seeds"])
        p = max(2, round(row["problems"] * problem_scale))
        n = (samples or c.samples) if c.sample is not None else None  # Pass@k: no per-sample variance to scale
        out.append({"model": row["model"], "method": row["method"], "benchmark": row["benchmark"], "metric": row["metric"],
                    "seeds": s, "problems": p, "samples": n, "mdd": minimum_detectable_difference(c, s, p, n),
                    f"seeds for {detect:g}": seeds_needed(c, detect, p, n)})
    return pd.DataFrame(out)


def write_statistics(cfg: ExperimentConfig, eval_paths: list[Path], tables_dir: Path) -> None:
    """comparisons.{md,csv} and passk.{md,csv} of the main table's cells."""
    from harness.passk import passk_curves, write_passk

    generations = generation_paths(eval_paths)
    write_comparisons(cfg, comparisons_frame(cfg, generations), tables_dir / "comparisons")
    write_passk(passk_curves(generations), cfg.table_rows()["main"], tables_dir / "passk", f"{cfg.name}: unbiased pass@k")
