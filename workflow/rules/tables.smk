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


rule statistics:  # every method against the reference (paired, with power), and pass@k for every k
    input:
        eval_targets("main"),
    output:
        comparisons_md=P("comparisons").replace("{ext}", "md"),
        comparisons_csv=report(P("comparisons").replace("{ext}", "csv"), category="Tables"),
        passk_md=P("passk").replace("{ext}", "md"),
        passk_csv=P("passk").replace("{ext}", "csv"),
    log:
        P("log").format(name="statistics"),
    script:
        "../scripts/statistics.py"
