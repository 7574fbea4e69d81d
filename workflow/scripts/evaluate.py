from pathlib import Path

from harness import handoff
from harness.jobs import configure, experiment, snakemake_log

w = snakemake.wildcards
model_dir, data = Path(snakemake.input.model), Path(snakemake.input.data)
out_json, out_generations = Path(snakemake.output.metrics), Path(snakemake.output.generations)


def evaluate() -> dict:
    configure(snakemake.threads)
    from harness.stages import run_evaluation

    return run_evaluation(experiment(snakemake), w.model, w.method, int(w.seed), w.benchmark, model_dir, data,
                          out_json, out_generations)


with snakemake_log(snakemake):
    # what the training job evaluated, if computed from the same inputs (harness.handoff): decided
    # before torch is loaded, so a job that adopts starts in a fraction of a second
    key = handoff.handoff_key(snakemake.config["experiments"][w.exp], w.model, w.method, int(w.seed), w.benchmark,
                              model_dir, data, snakemake.threads)
    handoff.evaluate_or_adopt(key, model_dir, w.benchmark, out_json, out_generations, evaluate)
