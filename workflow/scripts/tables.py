from pathlib import Path

from harness.config import load_config
from harness.jobs import snakemake_job
from harness.stages import make_tables

cfg = load_config(snakemake.config)
with snakemake_job(snakemake):
    make_tables(cfg, snakemake.wildcards.table, [Path(p) for p in snakemake.input], Path(snakemake.output.md).parent)
