# tempo-harness: GRPO with adaptive sampling temperature, from data to tables.
#
# `snakemake --cores 2` runs the default experiments (workflow/rules/common.smk: configs/tiny.yaml,
# the arithmetic setting, and configs/countdown.yaml, the Countdown testbed); `--configfile X`
# runs experiment X alone.
#
# Path grammar (harness/paths.py); {exp} is an experiment config's `name`:
#   results/{exp}/data/{dataset}.jsonl (train set and benchmarks)           rule dataset
#   results/{exp}/tokenizer/ (tiny setting)                                 rule tokenizer
#   results/{exp}/{model}/base/model/ (pre-trained, converted or copied)    rule base_model
#   results/{exp}/{model}/{method}/seed{seed}/model/                        rule train
#   results/{exp}/{model}/{method}/seed{seed}/eval/{benchmark}.json         rule evaluate
#       (method "base" evaluates the untrained model; seed is then the sampling seed)
#   results/{exp}/tables/{table}.{md,csv}, {table}_by_level.*, _summary.csv   rule table
#       (tables: `main` = base + methods, the default target; others from the config's
#        `tables`, e.g. `snakemake --cores 2 ablations`)
#   results/{exp}/tables/comparisons.{md,csv}, passk.{md,csv}                rule statistics
#       (every main-table method against the reference, paired; pass@k for k = 1..n)
#   results/{exp}/paper/{ptable}.{md,tex,csv}, diff/{ptable}.{md,csv,json}   rule paper_table
#       (configs with `reproduces:`: a paper's table in its layout, and ours against its numbers)
#       (+ diff/{ptable}_ordering.csv: the paper's order of methods, pair by pair)
#   results/{exp}/diff.md                                                   rule diff_report
#   results/{exp}/claims.{md,json}                                           rule claims
#   results/{exp}/paper/efficiency.{md,csv}                                  rule efficiency
#   results/{exp}/figures/{model}/*.png                                      rule figures
#   results/{exp}/report/{table}.html (tables as pages for --report)          rule report_tables
#   results/run.json (the last invocation that produced results)            onsuccess
#   logs/{exp}/...                                                          one log per job
#
# `snakemake --report report.html` (after a run): tables, diffs, claims and figures in one file.
#
# Any cell of a table is one target:
#   snakemake --cores 2 results/tiny/tiny-llama/grpo-t1.0/seed0/eval/arith.json
# A path that names a model, method, benchmark... the config lacks stops with the valid names.

import sys
import time

from harness.rerun_triggers import dropped_triggers_note
from harness.run_record import write_run_record
from harness.targets import requested_paths, target_hint

STARTED = time.time()


report: "workflow/report/workflow.rst"  # the report's first screen: what it holds


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/paper.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


onsuccess:  # results/run.json: wall time, machine, numerics, revision (harness/run_record.py)
    write_run_record(Path(P("run_record")), STARTED, workflow.cores, sys.argv, config["experiments"])


def experiment_targets(exp):
    """The main table and its comparisons; for a paper config its tables rebuilt and diffed, claims and efficiency."""
    return (
        table_files(exp, "main")
        + [P(k, exp=exp, ext=e) for k in ("comparisons", "passk") for e in ("md", "csv")]
        + [f for t in paper_tables(exp) for f in paper_files(exp, t)]
        + ([P("diff_report", exp=exp), P("claims", exp=exp)] if paper_tables(exp) else [])
        + efficiency_files(exp)
        + [P("figures", exp=exp, model=m) for m in CFGS[exp].models]
        + [P("report_pages", exp=exp)]
    )


def after_trigger_check(targets):
    """An aggregate rule's input function: `targets`, after warning a run whose rerun triggers
    leave out those this workflow relies on (harness/rerun_triggers.py). A function, because
    Snakemake settles a run's triggers only after reading this file, before building the DAG."""

    def inputs(wildcards):
        if note := dropped_triggers_note(t.name for t in workflow.rerun_triggers):
            print(f"harness: {note}", file=sys.stderr)
        return targets

    return inputs


rule all:  # every experiment's targets
    input:
        after_trigger_check([f for exp in CFGS for f in experiment_targets(exp)]),


rule ablations:  # every variant of the `ablations` config section, and its table
    input:
        after_trigger_check(
            [f for exp, cfg in CFGS.items() if "ablations" in cfg.table_rows() for f in table_files(exp, "ablations")]
        ),


# A requested path that no rule builds: one line naming the unknown model, method, benchmark...
# and the valid ones, rather than Snakemake's bare MissingRuleException.
if workflow.is_main_process:
    for target in requested_paths(sys.argv[1:]):
        if not Path(target).exists() and not any(r.is_producer(target) for r in workflow.rules):
            sys.exit(f"harness: {target_hint(target, CFGS)}")
