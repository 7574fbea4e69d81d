from pathlib import Path

from harness.io import atomic_path
from harness.jobs import snakemake_job
from harness.report import write_page

with snakemake_job(snakemake), atomic_path(Path(snakemake.output[0])) as tmp:
    tmp.mkdir()
    for name, source in snakemake.input.items():
        write_page(name, Path(source), tmp / f"{name}.html")
