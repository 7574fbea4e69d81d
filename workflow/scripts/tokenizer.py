from pathlib import Path

from harness.jobs import snakemake_job
from harness.stages import build_tokenizer

with snakemake_job(snakemake):
    build_tokenizer([Path(p) for p in snakemake.input], Path(snakemake.output[0]))
