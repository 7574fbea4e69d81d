from pathlib import Path

from harness.config import load_config
from harness.jobs import snakemake_job
from harness.stages import train_cell

cfg = load_config(snakemake.config)
w = snakemake.wildcards
with snakemake_job(snakemake):
    train_cell(
        cfg, w.model, w.method, int(w.seed), Path(snakemake.input.base), Path(snakemake.input.train),
        Path(snakemake.params.run_dir), Path(snakemake.output.model),
        stale="discard",  # Snakemake reruns this job when the config changed: an older run's checkpoint goes
    )
