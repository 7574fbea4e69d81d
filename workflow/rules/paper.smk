from harness.paper import table_methods

PAPER_TABLES = CFG.reproduces.tables if CFG.reproduces else []
EFFICIENCY = [P("efficiency").format(ext=e) for e in ("md", "csv")] if CFG.reproduces and CFG.reproduces.efficiency_contexts else []


def paper_files(ptable):
    table, diff = P("paper_table").replace("{ptable}", ptable), P("diff").replace("{ptable}", ptable)
    return ([table.format(ext=e) for e in ("md", "tex", "csv")] + [diff.format(ext=e) for e in ("md", "csv", "json")]
            + [P("ordering").replace("{ptable}", ptable)])


rule paper_table:  # one table of the paper, rebuilt in its layout, and its diff against the paper
    input:
        lambda w: eval_paths(table_methods(CFG, w.ptable)),
    output:
        md=P("paper_table").replace("{ext}", "md"),
        tex=P("paper_table").replace("{ext}", "tex"),
        csv=report(P("paper_table").replace("{ext}", "csv"), category="Paper tables"),
        diff_md=P("diff").replace("{ext}", "md"),
        diff_csv=report(P("diff").replace("{ext}", "csv"), category="Diffs against the papers"),
        diff_json=P("diff").replace("{ext}", "json"),
        ordering=P("ordering"),
    wildcard_constraints:
        ptable=one_of(PAPER_TABLES),  # "table1", not "table1_ordering" of the diff's .csv pattern
    log:
        P("log").format(name="paper-{ptable}"),
    script:
        "../scripts/paper_table.py"


rule diff_report:  # every rebuilt table's diff in one report
    input:
        expand(P("diff").replace("{ext}", "md"), ptable=PAPER_TABLES),
    output:
        P("diff_report"),
    log:
        P("log").format(name="diff"),
    script:
        "../scripts/diff_report.py"


def claim_inputs(w):
    """Every cell of the rebuilt tables, and the trained models whose training logs claims read."""
    methods = list(dict.fromkeys(m for t in PAPER_TABLES for m in table_methods(CFG, t)))
    trained = [m for m in methods if m in ("tampo", "introllm")]
    models = [P("model").format(model=m, method=r, seed=s) for m, r, s, _ in CFG.cells(trained)]
    return {"evals": eval_paths(methods), "models": list(dict.fromkeys(models))}


rule claims:  # the paper's qualitative claims as checks on our results
    input:
        unpack(claim_inputs),
    output:
        md=report(P("claims"), category="Claims"),
        json=P("claims").replace(".md", ".json"),
    log:
        P("log").format(name="claims"),
    script:
        "../scripts/claims.py"


rule efficiency:  # IntroLLM Table 3 on the configured model: head parameters, FLOPs, throughput by context
    input:
        model=P("base_model").replace("{model}", next(iter(CFG.models))),
    output:
        md=P("efficiency").replace("{ext}", "md"),
        csv=report(P("efficiency").replace("{ext}", "csv"), category="Paper tables"),
    threads: job_threads(workflow.cores)  # one under pinned numerics (harness/numerics.py)
    log:
        P("log").format(name="efficiency"),
    script:
        "../scripts/efficiency.py"
