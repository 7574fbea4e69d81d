rule table:
    input:
        lambda w: eval_paths(w.exp, CFGS[w.exp].table_rows()[w.table]),
    output:
        md=P("table", ext="md"),
        csv=report(P("table", ext="csv"), category="Tables"),
        by_level_md=P("table", table="{table}_by_level", ext="md"),
        by_level_csv=P("table", table="{table}_by_level", ext="csv"),
        summary=P("table", table="{table}_summary", ext="csv"),
    log:
        P("log", name="table-{table}"),
    script:
        "../scripts/tables.py"
