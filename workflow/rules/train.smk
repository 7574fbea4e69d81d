rule train:
    input:
        base=P("base_model"),
        train=P("dataset").format(dataset=CFG.train_set),
    output:
        model=directory(P("model")),
    params:
        run_dir=P("train_dir"),
        method=lambda w: CFG.controller_spec(w.method),
        train=lambda w: CFG.train_config(w.method).model_dump(),
    threads: lambda w: CFG.train_config(w.method).processes
    resources:
        gpu=lambda w: CFG.train_config(w.method).processes,  # one process per GPU where there are GPUs
    log:
        P("log").format(name="{model}/{method}/seed{seed}/train"),
    script:
        "../scripts/train.py"
