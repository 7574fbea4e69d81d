from pathlib import Path

from harness.jobs import experiment, snakemake_job
from harness.stages import train_cell

cfg = experiment(snakemake)
w = snakemake.wildcards
with snakemake_job(snakemake):
    train_cell(
        cfg, w.model, w.method, int(w.seed), Path(snakemake.input.base), Path(snakemake.input.train),
        Path(snakemake.params.run_dir), Path(snakemake.output.model),
        stale="discard",  # Snakemake reruns this job when the config changed: an older run's checkpoint goes
    )
