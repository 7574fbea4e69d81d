from harness.report import figure_captions


def figure_methods(exp):
    """The methods of the tables `all` builds: the main table and the paper's."""
    return list(dict.fromkeys(CFGS[exp].table_rows()["main"] + paper_methods(exp)))


def figure_inputs(w):
    """Each trained model (its training log) and each evaluated cell (its generations) of this model."""
    cells = [c for c in CFGS[w.exp].cells(figure_methods(w.exp)) if c[0] == w.model]
    trained = {P("model", exp=w.exp, model=m, method=r, seed=s) for m, r, s, _ in cells if r != "base"}
    evals = [P("eval", exp=w.exp, model=m, method=r, seed=s, benchmark=b) for m, r, s, b in cells]
    return {"models": sorted(trained), "evals": evals}


rule figures:  # PNGs of training and temperature behaviour, for the report
    input:
        unpack(figure_inputs),
    output:
        report(directory(P("figures")), patterns=["{name}.png"], category="Figures", subcategory="{exp} {model}",
               caption="../report/caption.rst"),
    params:
        captions=lambda w: figure_captions(CFGS[w.exp].eval.benchmarks),
    log:
        P("log", name="{model}/figures"),
    script:
        "../scripts/figures.py"
