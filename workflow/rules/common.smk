import re
from pathlib import Path

import yaml

from harness.config import deep_merge, load_config
from harness.numerics import job_threads
from harness.paths import PATTERNS

# The default pipeline runs the experiments below, each its own config with its own results/{exp}/.
# They are loaded here rather than by a `configfile:` directive, which Snakemake would deep-merge
# *under* any --configfile (so another experiment would inherit them). With --configfile, that one
# experiment runs alone; `--config key=value` applies on top of every experiment.
DEFAULT_EXPERIMENTS = ["configs/tiny.yaml", "configs/countdown.yaml"]

if workflow.overwrite_configfiles:
    sources = [dict(config)]
else:
    overrides = dict(config)
    sources = [deep_merge(yaml.safe_load((Path(workflow.basedir) / p).read_text()), overrides) for p in DEFAULT_EXPERIMENTS]
CFGS = {cfg.name: cfg for cfg in map(load_config, sources)}  # typed and validated: a bad config stops here, naming the field
if len(CFGS) != len(sources):
    raise ValueError(f"experiments need distinct names, got {[s.get('name') for s in sources]}")
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
    return [P("eval", exp=exp, model=m, method=r, seed=s, benchmark=b) for m, r, s, b in CFGS[exp].cells(methods)]


def table_files(exp, table):
    return [P("table", exp=exp, table=t, ext=e) for t in (table, f"{table}_by_level") for e in ("md", "csv")]
