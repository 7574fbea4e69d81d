# tempo-harness: GRPO with adaptive sampling temperature, from data to tables.
#
# Path grammar (harness/paths.py); {exp} is the config's `name`:
#   results/{exp}/data/train.jsonl, data/{benchmark}.jsonl, tokenizer/      rule prepare
#   results/{exp}/{model}/base/model/                                       rule pretrain
#   results/{exp}/{model}/{method}/seed{seed}/model/                        rule train
#   results/{exp}/{model}/{method}/seed{seed}/eval/{benchmark}.json         rule evaluate
#       (method "base" evaluates the untrained model; seed is then the sampling seed)
#   results/{exp}/tables/{table}.{md,csv}, {table}_by_level.*, _summary.csv   rule table
#       (tables: `main` = base + methods, the default target; others from the config's
#        `tables`, e.g. `snakemake --cores 2 ablations`)
#   logs/{exp}/...                                                          one log per job
#
# Any cell of a table is one target:
#   snakemake --cores 2 results/tiny/tiny-llama/grpo-t1.0/seed0/eval/arith.json

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/tables.smk"


rule all:
    input:
        table_files("main"),


rule ablations:  # every variant of the `ablations` config section, and its table
    input:
        table_files("ablations") if "ablations" in TABLES else [],
