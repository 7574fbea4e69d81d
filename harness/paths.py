"""The path grammar: every artefact's location, as a pattern over the wildcards
exp (the experiment's config name), model, method, seed and benchmark.

The Snakefile's rules use these same patterns, so any cell of a table is one target, e.g.
  results/tiny/tiny-llama/grpo-t1.0/seed0/eval/arith.json
"""

from __future__ import annotations

from pathlib import Path

ROOT = "results/{exp}"
CONTROLLER_FILE = "controller.pt"  # a trained model directory's temperature-controller state
PATTERNS = {
    "dataset": ROOT + "/data/{dataset}.jsonl",
    "tokenizer": ROOT + "/tokenizer",
    "base_model": ROOT + "/{model}/base/model",
    "model": ROOT + "/{model}/{method}/seed{seed}/model",
    "train_dir": ROOT + "/{model}/{method}/seed{seed}/train",
    "eval": ROOT + "/{model}/{method}/seed{seed}/eval/{benchmark}.json",
    "generations": ROOT + "/{model}/{method}/seed{seed}/eval/{benchmark}.generations.jsonl",
    "table": ROOT + "/tables/{table}.{ext}",
    "paper_table": ROOT + "/paper/{ptable}.{ext}",  # a paper's table rebuilt in its layout (md, tex, csv)
    "diff": ROOT + "/diff/{ptable}.{ext}",  # that table against the reported numbers (md, csv, json)
    "ordering": ROOT + "/diff/{ptable}_ordering.csv",  # the paper's order of methods, pair by pair, against ours
    "comparisons": ROOT + "/tables/comparisons.{ext}",  # every method against the reference, paired (md, csv)
    "passk": ROOT + "/tables/passk.{ext}",  # unbiased pass@k for every k from 1 to n (md, csv)
    "diff_report": ROOT + "/diff.md",  # every table's diff, one report
    "efficiency": ROOT + "/paper/efficiency.{ext}",  # IntroLLM Table 3 measured on the first model (md, csv)
    "report_pages": ROOT + "/report",  # the tables as HTML pages with captions, for `snakemake --report`
    "figures": ROOT + "/figures/{model}",  # training curves, temperatures, TAMPO and IntroLLM analyses (PNG)
    "claims": ROOT + "/claims.md",  # the paper's qualitative claims checked on our results (+ claims.json)
    "run_record": "results/run.json",  # the last invocation that produced results: wall time, machine, numerics
    "log": "logs/{exp}/{name}.log",
    "job_time": "logs/{exp}/{name}.time.tsv",  # Snakemake's measurement of a job: wall and CPU seconds, memory
}


def path(kind: str, **wildcards: object) -> Path:
    """The concrete path of one artefact, e.g. path('eval', exp='tiny', model=..., ...)."""
    return Path(PATTERNS[kind].format(**wildcards))


def model_dir(exp: str, model: str, method: str, seed: int) -> Path:
    """The policy a cell evaluates: the pre-trained base model for method 'base'."""
    if method == "base":
        return path("base_model", exp=exp, model=model)
    return path("model", exp=exp, model=model, method=method, seed=seed)
