from pathlib import Path

from harness.jobs import experiment, snakemake_job
from harness.reproduction import write_paper_table

cfg = experiment(snakemake)
out = snakemake.output
with snakemake_job(snakemake):
    write_paper_table(
        cfg, snakemake.wildcards.ptable, [Path(p) for p in snakemake.input], Path(out.md).with_suffix(""),
        Path(out.diff_md).with_suffix(""),
    )
