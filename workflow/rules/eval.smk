def policy_dir(w):
    return P("base_model") if w.method == "base" else P("model")


rule evaluate:
    input:
        model=policy_dir,
        data=P("dataset").replace("{dataset}", "{benchmark}"),
    output:
        metrics=P("eval"),
        generations=P("generations"),
    params:
        eval=lambda w: CFGS[w.exp].eval.model_dump(),
    threads: 1
    log:
        P("log", name="{model}/{method}/seed{seed}/eval-{benchmark}"),
    script:
        "../scripts/evaluate.py"
