def base_spread_files(exp):
    """The robustness run whose spread the tables state (statistics.base_spread): its record and
    summary, so a regenerated copy rebuilds the tables."""
    reference = CFGS[exp].statistics.base_spread_path()
    if reference is None or not reference.exists():
        return []
    return [str(reference / "run.json"), *map(str, sorted(reference.glob("*/tables/main_summary.csv")))]


rule table:
    input:
        evals=lambda w: eval_paths(w.exp, CFGS[w.exp].table_rows()[w.table]),
        base_spread=lambda w: base_spread_files(w.exp),
    output:
        md=P("table", ext="md"),
        csv=P("table", ext="csv"),
        by_level_md=P("table", table="{table}_by_level", ext="md"),
        by_level_csv=P("table", table="{table}_by_level", ext="csv"),
        summary=P("table", table="{table}_summary", ext="csv"),
    log:
        P("log", name="table-{table}"),
    script:
        "../scripts/tables.py"


rule statistics:  # every method against the reference (paired, with power), and pass@k for every k
    input:
        lambda w: eval_paths(w.exp, CFGS[w.exp].table_rows()["main"]),
    output:
        comparisons_md=P("comparisons", ext="md"),
        comparisons_csv=P("comparisons", ext="csv"),
        passk_md=P("passk", ext="md"),
        passk_csv=P("passk", ext="csv"),
    log:
        P("log", name="statistics"),
    script:
        "../scripts/statistics.py"
