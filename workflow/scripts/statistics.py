from pathlib import Path

from harness.comparisons import write_statistics
from harness.config import load_config
from harness.jobs import snakemake_job

cfg = load_config(snakemake.config)
with snakemake_job(snakemake):
    write_statistics(cfg, [Path(p) for p in snakemake.input], Path(snakemake.output.comparisons_md).parent)
