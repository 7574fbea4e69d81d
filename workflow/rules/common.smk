import re
import sys
from pathlib import Path

from harness.config import ConfigError, deep_merge, load_config
from harness.config_file import read_config_file
from harness.numerics import job_threads
from harness.paths import PATTERNS
from harness.snakemake_locks import clear_stale_locks, stamp_this_run

# A killed run's lock would stop this one (LockException): removed if its run is certainly gone.
if workflow.is_main_process:
    if note := clear_stale_locks(Path(".snakemake")):
        print(f"harness: {note}", file=sys.stderr)
    stamp_this_run(Path(".snakemake"))

# The default experiment is configs/tiny.yaml. It is loaded here rather than by a `configfile:`
# directive, which Snakemake would deep-merge *under* any --configfile (so another experiment
# would inherit the tiny methods); `--config key=value` still applies on top of either.
# Every config file is read again strictly: Snakemake's loader keeps the last of two equal keys.
try:
    for configfile in workflow.configfiles:
        read_config_file(configfile)
    if not workflow.overwrite_configfiles:
        merged = deep_merge(read_config_file(Path(workflow.basedir) / "configs" / "tiny.yaml"), dict(config))
        config.clear()
        config.update(merged)
    CFG = load_config(config)  # typed and validated: a bad config stops here, naming the field
except ConfigError as err:  # the message alone: no Snakemake traceback
    sys.exit(f"harness: {err}")
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
