rule table:
    input:
        lambda w: eval_targets(w.table),
    output:
        md=P("table").replace("{ext}", "md"),
        csv=report(P("table").replace("{ext}", "csv"), category="Tables"),
        by_level_md=P("table").replace("{table}.{ext}", "{table}_by_level.md"),
        by_level_csv=P("table").replace("{table}.{ext}", "{table}_by_level.csv"),
        summary=P("table").replace("{table}.{ext}", "{table}_summary.csv"),
    log:
        P("log").format(name="table-{table}"),
    script:
        "../scripts/tables.py"
