rule tables:
    input:
        eval_targets(),
    output:
        main_md=P("table").format(table="main", ext="md"),
        main_csv=P("table").format(table="main", ext="csv"),
        by_level_md=P("table").format(table="by_level", ext="md"),
        by_level_csv=P("table").format(table="by_level", ext="csv"),
        summary=P("table").format(table="summary", ext="csv"),
    log:
        P("log").format(name="tables"),
    script:
        "../scripts/tables.py"
