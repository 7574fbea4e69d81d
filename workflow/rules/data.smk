rule prepare:
    output:
        train=P("train_data"),
        benchmarks=expand(P("benchmark_data"), benchmark=CFG.eval.benchmarks),
        tokenizer=directory(P("tokenizer")),
    params:
        data=CFG.data.model_dump(),
    log:
        P("log").format(name="prepare"),
    script:
        "../scripts/prepare.py"


rule pretrain:
    input:
        train=rules.prepare.output.train,
        tokenizer=rules.prepare.output.tokenizer,
    output:
        model=directory(P("base_model")),
    params:
        spec=lambda w: CFG.models[w.model].model_dump(),
    threads: workflow.cores
    log:
        P("log").format(name="{model}/pretrain"),
    script:
        "../scripts/pretrain.py"
