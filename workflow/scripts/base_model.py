from pathlib import Path

from harness.config import load_config
from harness.jobs import snakemake_job
from harness.stages import base_model

cfg = load_config(snakemake.config)
with snakemake_job(snakemake):
    inp = snakemake.input
    train = Path(inp.train) if "train" in inp.keys() else None
    tokenizer = Path(inp.tokenizer) if "tokenizer" in inp.keys() else None
    base_model(cfg, snakemake.wildcards.model, Path(snakemake.output.model), train, tokenizer)
