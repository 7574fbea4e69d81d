from pathlib import Path

from harness.jobs import experiment, snakemake_job
from harness.stages import make_tables

cfg = experiment(snakemake)
with snakemake_job(snakemake):
    make_tables(cfg, snakemake.wildcards.table, [Path(p) for p in snakemake.input.evals], Path(snakemake.output.md).parent)
