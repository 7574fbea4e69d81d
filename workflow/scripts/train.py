from pathlib import Path

from harness.jobs import experiment, snakemake_job
from harness.paths import path
from harness.stages import evaluate_after_training, train_cell

cfg = experiment(snakemake)
w = snakemake.wildcards
model_dir = Path(snakemake.output.model)
with snakemake_job(snakemake):
    train_cell(
        cfg, w.model, w.method, int(w.seed), Path(snakemake.input.base), Path(snakemake.input.train),
        Path(snakemake.params.run_dir), model_dir,
        stale="discard",  # Snakemake reruns this job when the config changed: an older run's checkpoint goes
    )
    if cfg.eval.with_training:  # the evaluation jobs of this model adopt these (harness.handoff)
        evaluate_after_training(cfg, w.model, w.method, int(w.seed), model_dir,
                                lambda benchmark: path("dataset", exp=w.exp, dataset=benchmark))
