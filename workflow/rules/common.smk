import re
from pathlib import Path

import yaml

from harness.config import deep_merge, load_config
from harness.numerics import job_threads
from harness.paths import PATTERNS

# The default experiment is configs/tiny.yaml. It is loaded here rather than by a `configfile:`
# directive, which Snakemake would deep-merge *under* any --configfile (so another experiment
# would inherit the tiny methods); `--config key=value` still applies on top of either.
if not workflow.overwrite_configfiles:
    merged = deep_merge(yaml.safe_load((Path(workflow.basedir) / "configs" / "tiny.yaml").read_text()), dict(config))
    config.clear()
    config.update(merged)

CFG = load_config(config)  # typed and validated: a bad config stops here, naming the field
EXP = CFG.name
METHODS = ["base", *CFG.methods, *CFG.ablations]
TABLES = CFG.table_rows()


def P(kind):
    """A path pattern of harness/paths.py with this experiment's name filled in."""
    return PATTERNS[kind].replace("{exp}", EXP)


def one_of(names):
    return "|".join(re.escape(n) for n in names)


wildcard_constraints:
    model=one_of(CFG.models),
    method=one_of(METHODS),
    seed=r"\d+",
    benchmark=one_of(CFG.eval.benchmarks),
    dataset=one_of(CFG.dataset_names()),
    table=one_of(TABLES),


def eval_paths(methods):
    """Every evaluated cell those methods need (each method with its own seeds)."""
    return [P("eval").format(model=m, method=r, seed=s, benchmark=b) for m, r, s, b in CFG.cells(methods)]


def eval_targets(table):
    """Every cell a table needs."""
    return eval_paths(TABLES[table])


def table_files(table):
    stem = P("table").replace("{table}", table)
    return [stem.format(ext=e) for e in ("md", "csv")] + [
        stem.replace(table, f"{table}_by_level").format(ext=e) for e in ("md", "csv")
    ]
