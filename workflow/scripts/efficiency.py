from pathlib import Path

from harness.efficiency import efficiency_table, write_efficiency
from harness.jobs import experiment, snakemake_job

cfg = experiment(snakemake)
r = cfg.reproduces
with snakemake_job(snakemake):
    frame = efficiency_table(Path(snakemake.input.model), cfg.controller_spec(r.efficiency_method), r.efficiency_contexts)
    title = f"{cfg.name}: temperature head cost on {next(iter(cfg.models))} (as IntroLLM Table 3)"
    write_efficiency(frame, Path(snakemake.output.md).with_suffix(""), title)
