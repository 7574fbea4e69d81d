# tempo-harness: GRPO with adaptive sampling temperature, from data to tables.
#
# Path grammar (harness/paths.py); {exp} is the config's `name`:
#   results/{exp}/data/train.jsonl, data/{benchmark}.jsonl, tokenizer/      rule prepare
#   results/{exp}/{model}/base/model/                                       rule pretrain
#   results/{exp}/{model}/{method}/seed{seed}/model/                        rule train
#   results/{exp}/{model}/{method}/seed{seed}/eval/{benchmark}.json         rule evaluate
#       (method "base" evaluates the untrained model; seed is then the sampling seed)
#   results/{exp}/tables/{main,by_level}.{md,csv}, summary.csv              rule tables
#   logs/{exp}/...                                                          one log per job
#
# Any cell of a table is one target:
#   snakemake --cores 2 results/tiny/tiny-llama/grpo-t1.0/seed0/eval/arith.json

configfile: "configs/tiny.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/eval.smk"
include: "workflow/rules/tables.smk"


rule all:
    input:
        rules.tables.output,
