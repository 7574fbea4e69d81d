from pathlib import Path

from harness.comparisons import write_statistics
from harness.jobs import experiment, snakemake_job

cfg = experiment(snakemake)
with snakemake_job(snakemake):
    write_statistics(cfg, [Path(p) for p in snakemake.input], Path(snakemake.output.comparisons_md).parent)
