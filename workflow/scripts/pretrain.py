from pathlib import Path

from harness.config import load_config
from harness.jobs import snakemake_job
from harness.stages import pretrain

cfg = load_config(snakemake.config)
with snakemake_job(snakemake):
    inp = snakemake.input
    pretrain(cfg, snakemake.wildcards.model, Path(inp.train), Path(inp.tokenizer), Path(snakemake.output.model))
