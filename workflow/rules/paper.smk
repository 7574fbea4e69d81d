def table_methods(cfg, table):
    """harness.paper.table_methods, imported on first use: only experiments that rebuild paper
    tables need it (and its statistics imports, which would slow every workflow start)."""
    from harness.paper import table_methods

    return table_methods(cfg, table)


def paper_tables(exp):
    """The paper tables an experiment rebuilds (configs with `reproduces:`), else none."""
    cfg = CFGS[exp]
    return cfg.reproduces.tables if cfg.reproduces else []


def efficiency_files(exp):
    cfg = CFGS[exp]
    measured = cfg.reproduces and cfg.reproduces.efficiency_contexts
    return [P("efficiency", exp=exp, ext=e) for e in ("md", "csv")] if measured else []


def paper_methods(exp):
    """Our methods in any of the experiment's rebuilt paper tables."""
    return list(dict.fromkeys(m for t in paper_tables(exp) for m in table_methods(CFGS[exp], t)))


def paper_files(exp, ptable):
    return [P("paper_table", exp=exp, ptable=ptable, ext=e) for e in ("md", "tex", "csv")] + [
        P("diff", exp=exp, ptable=ptable, ext=e) for e in ("md", "csv", "json")
    ] + [P("ordering", exp=exp, ptable=ptable)]


rule paper_table:  # one table of the paper, rebuilt in its layout, and its diff against the paper
    input:
        lambda w: eval_paths(w.exp, table_methods(CFGS[w.exp], w.ptable)),
    output:
        md=P("paper_table", ext="md"),
        tex=P("paper_table", ext="tex"),
        csv=P("paper_table", ext="csv"),
        diff_md=P("diff", ext="md"),
        diff_csv=P("diff", ext="csv"),
        diff_json=P("diff", ext="json"),
        ordering=P("ordering"),
    log:
        P("log", name="paper-{ptable}"),
    script:
        "../scripts/paper_table.py"


rule diff_report:  # every rebuilt table's diff in one report
    input:
        lambda w: [P("diff", exp=w.exp, ptable=t, ext="md") for t in paper_tables(w.exp)],
    output:
        P("diff_report"),
    log:
        P("log", name="diff"),
    script:
        "../scripts/diff_report.py"


def claim_files(w):
    """Every cell of the rebuilt tables, and the trained models whose training logs claims read."""
    from harness.claims import claim_inputs  # scipy: only when the claims rule is asked for

    return {k: [str(p) for p in v] for k, v in claim_inputs(CFGS[w.exp], w.exp, paper_tables(w.exp)).items()}


rule claims:  # the paper's qualitative claims as checks on our results
    input:
        unpack(claim_files),
    output:
        md=P("claims"),
        json=P("claims").replace(".md", ".json"),
    log:
        P("log", name="claims"),
    script:
        "../scripts/claims.py"


rule efficiency:  # IntroLLM Table 3 on the configured model: head parameters, FLOPs, throughput by context
    input:
        model=lambda w: P("base_model", exp=w.exp, model=next(iter(CFGS[w.exp].models))),
    output:
        md=P("efficiency", ext="md"),
        csv=P("efficiency", ext="csv"),
    threads: job_threads(workflow.cores)  # one under pinned numerics (harness/numerics.py)
    log:
        P("log", name="efficiency"),
    script:
        "../scripts/efficiency.py"
