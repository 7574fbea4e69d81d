rule dataset:  # one registered dataset as records: generated, or from the hub / a local path / a package
    output:
        P("dataset"),
    log:
        P("log", name="data-{dataset}"),
    script:
        "../scripts/dataset.py"


rule tokenizer:  # the embedded setting's character-level tokenizer
    input:
        lambda w: [P("dataset", exp=w.exp, dataset=d) for d in CFGS[w.exp].dataset_names()],
    output:
        directory(P("tokenizer")),
    log:
        P("log", name="tokenizer"),
    script:
        "../scripts/tokenizer.py"


def base_model_inputs(w):
    """A tiny model is pre-trained here on the training set; others are converted or copied."""
    cfg = CFGS[w.exp]
    if cfg.models[w.model].tiny is None:
        return {}
    return {"train": P("dataset", exp=w.exp, dataset=cfg.train_set), "tokenizer": P("tokenizer", exp=w.exp)}


rule base_model:
    input:
        unpack(base_model_inputs),
    output:
        model=directory(P("base_model")),
    params:
        spec=lambda w: CFGS[w.exp].models[w.model].model_dump(),
    threads: job_threads(workflow.cores)  # one under pinned numerics (harness/numerics.py)
    log:
        P("log", name="{model}/base_model"),
    script:
        "../scripts/base_model.py"
