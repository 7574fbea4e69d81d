from pathlib import Path

from harness.claims import claims_for
from harness.jobs import experiment, snakemake_job

cfg = experiment(snakemake)
with snakemake_job(snakemake):
    inp = snakemake.input
    claims_for(cfg, [Path(p) for p in inp.evals], [Path(p) for p in inp.models], Path(snakemake.output.md))
