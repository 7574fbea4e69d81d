from harness.paper import table_methods

PAPER_TABLES = CFG.reproduces.tables if CFG.reproduces else []


def paper_files(ptable):
    table, diff = P("paper_table").replace("{ptable}", ptable), P("diff").replace("{ptable}", ptable)
    return [table.format(ext=e) for e in ("md", "tex", "csv")] + [diff.format(ext=e) for e in ("md", "csv", "json")]


rule paper_table:  # one table of the paper, rebuilt in its layout, and its diff against the paper
    input:
        lambda w: eval_paths(table_methods(CFG, w.ptable)),
    output:
        md=P("paper_table").replace("{ext}", "md"),
        tex=P("paper_table").replace("{ext}", "tex"),
        csv=P("paper_table").replace("{ext}", "csv"),
        diff_md=P("diff").replace("{ext}", "md"),
        diff_csv=P("diff").replace("{ext}", "csv"),
        diff_json=P("diff").replace("{ext}", "json"),
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
