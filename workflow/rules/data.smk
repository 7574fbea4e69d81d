rule dataset:  # one registered dataset as records: generated, or from the hub / a local path / a package
    output:
        P("dataset"),
    params:
        override=lambda w: CFG.datasets[w.dataset].model_dump() if w.dataset in CFG.datasets else None,
    log:
        P("log").format(name="data-{dataset}"),
    script:
        "../scripts/dataset.py"


rule tokenizer:  # the embedded setting's character-level tokenizer
    input:
        expand(P("dataset"), dataset=CFG.dataset_names()),
    output:
        directory(P("tokenizer")),
    log:
        P("log").format(name="tokenizer"),
    script:
        "../scripts/tokenizer.py"


def base_model_inputs(w):
    """A tiny model is pre-trained here on the training set; others are converted or copied."""
    if CFG.models[w.model].tiny is None:
        return {}
    return {"train": P("dataset").format(dataset=CFG.train_set), "tokenizer": P("tokenizer")}


rule base_model:
    input:
        unpack(base_model_inputs),
    output:
        model=directory(P("base_model")),
    params:
        spec=lambda w: CFG.models[w.model].model_dump(),
    threads: job_threads(workflow.cores)  # one under pinned numerics (harness/numerics.py)
    log:
        P("log").format(name="{model}/base_model"),
    script:
        "../scripts/base_model.py"
