def figure_methods():
    """The methods of the tables `all` builds: the main table and the paper's."""
    return list(dict.fromkeys(TABLES["main"] + [m for t in PAPER_TABLES for m in table_methods(CFG, t)]))


def figure_inputs(w):
    """Each trained model (its training log) and each evaluated cell (its generations) of this model."""
    cells = [c for c in CFG.cells(figure_methods()) if c[0] == w.model]
    trained = {P("model").format(model=m, method=r, seed=s) for m, r, s, _ in cells if r != "base"}
    return {"models": sorted(trained), "evals": [P("eval").format(model=m, method=r, seed=s, benchmark=b) for m, r, s, b in cells]}


rule figures:  # PNGs of training and temperature behaviour, for the report
    input:
        unpack(figure_inputs),
    output:
        report(directory(P("figures")), patterns=["{name}.png"], category="Figures", subcategory="{model}"),
    log:
        P("log").format(name="{model}/figures"),
    script:
        "../scripts/figures.py"
