from pathlib import Path

from harness.jobs import snakemake_job
from harness.reproduction import write_diff_report

with snakemake_job(snakemake):
    write_diff_report([Path(p) for p in snakemake.input], Path(snakemake.output[0]))
