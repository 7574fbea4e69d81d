from pathlib import Path

from harness.jobs import experiment, snakemake_job
from harness.stages import evaluate_cell

cfg = experiment(snakemake)
w = snakemake.wildcards
with snakemake_job(snakemake):
    evaluate_cell(
        cfg, w.model, w.method, int(w.seed), w.benchmark, Path(snakemake.input.model), Path(snakemake.input.data),
        Path(snakemake.output.metrics), Path(snakemake.output.generations),
    )
