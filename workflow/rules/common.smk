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

# The default pipeline runs the experiments below, each its own config with its own results/{exp}/.
# They are loaded here rather than by a `configfile:` directive, which Snakemake would deep-merge
# *under* any --configfile (so another experiment would inherit them). With --configfile, that one
# experiment runs alone; `--config key=value` applies on top of every experiment. Every config file
# is read again strictly: Snakemake's loader keeps the last of two equal keys.
DEFAULT_EXPERIMENTS = ["configs/tiny.yaml", "configs/countdown.yaml"]

try:
    for configfile in workflow.configfiles:
        read_config_file(configfile)
    if workflow.overwrite_configfiles:
        sources = [dict(config)]
    else:
        overrides = dict(config)
        sources = [deep_merge(read_config_file(Path(workflow.basedir) / p), overrides) for p in DEFAULT_EXPERIMENTS]
    CFGS = {cfg.name: cfg for cfg in map(load_config, sources)}  # typed and validated: a bad config stops here
except ConfigError as err:  # the message alone, naming the field: no Snakemake traceback
    sys.exit(f"harness: {err}")
if len(CFGS) != len(sources):
    sys.exit(f"harness: experiments need distinct names, got {[s.get('name') for s in sources]}")
config.clear()
config["experiments"] = {name: cfg.model_dump(mode="json") for name, cfg in CFGS.items()}  # what the job scripts read


def methods_of(cfg):
    return ["base", *cfg.methods, *cfg.ablations]


def one_of(names):
    return "|".join(re.escape(n) for n in sorted(set(names)))


wildcard_constraints:
    exp=one_of(CFGS),
    model=one_of(m for cfg in CFGS.values() for m in cfg.models),
    method=one_of(m for cfg in CFGS.values() for m in methods_of(cfg)),
    seed=r"\d+",
    benchmark=one_of(b for cfg in CFGS.values() for b in cfg.eval.benchmarks),
    dataset=one_of(d for cfg in CFGS.values() for d in cfg.dataset_names()),
    table=one_of(t for cfg in CFGS.values() for t in cfg.table_rows()),
    ptable=one_of(t for cfg in CFGS.values() if cfg.reproduces for t in cfg.reproduces.tables) or "(?!)",


def P(kind, **filled):
    """A path pattern of harness/paths.py, with the wildcards in `filled` filled in."""
    pattern = PATTERNS[kind]
    for key, value in filled.items():
        pattern = pattern.replace("{" + key + "}", str(value))
    return pattern


def eval_paths(exp, methods):
    """Every evaluated cell those methods need (each method with its own seeds)."""
    return [str(p) for p in CFGS[exp].eval_files(exp, methods)]


def table_files(exp, table):
    return [P("table", exp=exp, table=t, ext=e) for t in (table, f"{table}_by_level") for e in ("md", "csv")]
