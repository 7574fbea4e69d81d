# tempo-harness: GRPO with adaptive sampling temperature, from data to tables.
#
# Path grammar (harness/paths.py); {exp} is the config's `name`:
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
#   logs/{exp}/...                                                          one log per job
#
# `snakemake --report report.html` (after a run): tables, diffs, claims and figures in one file.
#
# Any cell of a table is one target:
#   snakemake --cores 2 results/tiny/tiny-llama/grpo-t1.0/seed0/eval/arith.json

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/paper.smk"
include: "workflow/rules/figures.smk"


rule all:  # the main table (base + methods) and its comparisons; for a paper config also its tables rebuilt and diffed
    input:
        table_files("main") + [P(k).format(ext=e) for k in ("comparisons", "passk") for e in ("md", "csv")]
        + [f for t in PAPER_TABLES for f in paper_files(t)]
        + ([P("diff_report"), P("claims")] if PAPER_TABLES else []) + EFFICIENCY
        + expand(P("figures"), model=CFG.models),


rule ablations:  # every variant of the `ablations` config section, and its table
    input:
        table_files("ablations") if "ablations" in TABLES else [],
