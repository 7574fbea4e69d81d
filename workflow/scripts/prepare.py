from pathlib import Path

from harness.config import load_config
from harness.jobs import snakemake_job
from harness.stages import prepare

cfg = load_config(snakemake.config)
with snakemake_job(snakemake):
    benchmarks = dict(zip(cfg.eval.benchmarks, map(Path, snakemake.output.benchmarks)))
    prepare(cfg, Path(snakemake.output.train), benchmarks, Path(snakemake.output.tokenizer))
