from pathlib import Path

from harness.jobs import experiment, snakemake_job
from harness.stages import base_model

cfg = experiment(snakemake)
with snakemake_job(snakemake):
    inp = snakemake.input
    train = Path(inp.train) if "train" in inp.keys() else None
    tokenizer = Path(inp.tokenizer) if "tokenizer" in inp.keys() else None
    base_model(cfg, snakemake.wildcards.model, Path(snakemake.output.model), train, tokenizer)
