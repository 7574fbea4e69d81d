from pathlib import Path

from harness.jobs import experiment, snakemake_job
from harness.stages import prepare_dataset

cfg = experiment(snakemake)
with snakemake_job(snakemake):
    prepare_dataset(cfg, snakemake.wildcards.dataset, Path(snakemake.output[0]))
