import json
from pathlib import Path

from harness.figures import make_figures
from harness.io import atomic_path
from harness.jobs import snakemake_job
from harness.outcomes import generation_paths
from harness.passk import passk_curves

with snakemake_job(snakemake):
    logs = {}
    for model_dir in map(Path, snakemake.input.models):
        run = json.loads((model_dir / "run.json").read_text())
        logs[(model_dir.parent.parent.name, run["seed"])] = model_dir / "train_metrics.jsonl"
    generations = {}
    for path in map(Path, snakemake.input.evals):
        method = json.loads(path.read_text())["method"]
        generations.setdefault(method, []).append(path.with_suffix(".generations.jsonl"))
    with atomic_path(Path(snakemake.output[0])) as tmp:
        tmp.mkdir()
        make_figures(logs, generations, tmp, passk=passk_curves(generation_paths(snakemake.input.evals)))
