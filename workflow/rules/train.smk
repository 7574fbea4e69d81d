rule train:
    input:
        base=P("base_model"),
        train=lambda w: P("dataset", exp=w.exp, dataset=CFGS[w.exp].train_set),
    output:
        model=directory(P("model")),
    params:
        run_dir=P("train_dir"),
        method=lambda w: CFGS[w.exp].controller_spec(w.method),
        train=lambda w: CFGS[w.exp].train_config(w.method).model_dump(),
    threads: lambda w: CFGS[w.exp].train_config(w.method).processes
    resources:
        gpu=lambda w: CFGS[w.exp].train_config(w.method).processes,  # one process per GPU where there are GPUs
    log:
        P("log", name="{model}/{method}/seed{seed}/train"),
    script:
        "../scripts/train.py"
