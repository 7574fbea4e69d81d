from pathlib import Path

from harness.config import load_config
from harness.jobs import snakemake_job
from harness.stages import evaluate_cell

cfg = load_config(snakemake.config)
w = snakemake.wildcards
with snakemake_job(snakemake):
    evaluate_cell(
        cfg, w.model, w.method, int(w.seed), w.benchmark, Path(snakemake.input.model), Path(snakemake.input.data),
        Path(snakemake.output.metrics), Path(snakemake.output.generations),
    )
