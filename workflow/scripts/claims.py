from pathlib import Path

from harness.claims import claims_for
from harness.config import load_config
from harness.jobs import snakemake_job

cfg = load_config(snakemake.config)
with snakemake_job(snakemake):
    inp = snakemake.input
    claims_for(cfg, [Path(p) for p in inp.evals], [Path(p) for p in inp.models], Path(snakemake.output.md))
