from pathlib import Path

from harness.config import load_config
from harness.jobs import snakemake_job
from harness.stages import prepare_dataset

cfg = load_config(snakemake.config)
with snakemake_job(snakemake):
    prepare_dataset(cfg, snakemake.wildcards.dataset, Path(snakemake.output[0]))
