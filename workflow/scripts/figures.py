import json
from pathlib import Path

from harness.figures import family, make_figures
from harness.io import atomic_path
from harness.jobs import experiment, snakemake_job
from harness.outcomes import generation_paths
from harness.passk import passk_curves

cfg = experiment(snakemake)
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
        methods = {m for m, _ in logs} | set(generations)
        make_figures(logs, generations, tmp, passk=passk_curves(generation_paths(snakemake.input.evals)),
                     labels={m: cfg.method_label(m) for m in methods},
                     families={m: family(cfg.controller_spec(m)["controller"]) for m in methods if m != "base"})
