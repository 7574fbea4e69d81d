from harness.report import caption


def report_sources(exp):
    """Name -> file of every table the report shows: the main table's three views, comparisons,
    pass@k, and for paper configs each rebuilt table, its diff, the claims and the efficiency table."""
    sources = {t: P("table", exp=exp, table=t, ext="csv") for t in ("main", "main_by_level", "main_summary")}
    sources |= {k: P(k, exp=exp, ext="csv") for k in ("comparisons", "passk")}
    for t in paper_tables(exp):
        sources |= {t: P("paper_table", exp=exp, ptable=t, ext="csv"), f"diff_{t}": P("diff", exp=exp, ptable=t, ext="csv")}
    if paper_tables(exp):
        sources["claims"] = P("claims", exp=exp).replace(".md", ".json")
    sources |= {"efficiency": f for f in efficiency_files(exp) if f.endswith(".csv")}
    return sources


rule report_tables:  # the tables as HTML pages, for `snakemake --report`
    input:
        unpack(lambda w: report_sources(w.exp)),
    output:
        report(directory(P("report_pages")), patterns=["{name}.html"], category="Tables", subcategory="{exp}",
               caption="../report/caption.rst"),
    params:
        captions=lambda w: {name: caption(name) for name in report_sources(w.exp)},
    log:
        P("log", name="report-tables"),
    script:
        "../scripts/report_tables.py"
