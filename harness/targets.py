"""The names a config gives the wildcards of the path grammar (harness/paths.py), and for a
requested path that no rule builds, a one-line hint: which name is unknown, the closest valid
ones and all of them."""

from __future__ import annotations

import re
from collections.abc import Mapping

from harness.config import ExperimentConfig
from harness.names import did_you_mean
from harness.paths import PATTERNS, ROOT

GRAMMAR = "the path grammar is in the Snakefile's header and the README (Path grammar)"


def wildcard_values(cfg: ExperimentConfig) -> dict[str, list[str]]:
    """Every value each named wildcard takes in this experiment (seeds are any number)."""
    return {
        "model": list(cfg.models),
        "method": ["base", *cfg.methods, *cfg.ablations],
        "benchmark": list(cfg.eval.benchmarks),
        "dataset": cfg.dataset_names(),
        "table": list(cfg.table_rows()),
        "ptable": list(cfg.reproduces.tables) if cfg.reproduces else [],
    }


def requested_paths(argv: list[str]) -> list[str]:
    """The targets under results/ on a snakemake command line, read by Snakemake's own parser."""
    from snakemake.cli import get_argument_parser

    return [t for t in get_argument_parser().parse_known_args(argv)[0].targets if t.startswith("results/")]


def _regex(pattern: str) -> re.Pattern[str]:
    """A pattern of harness/paths.py as a regex with one named group per wildcard."""
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "/?")


def target_hint(target: str, cfgs: Mapping[str, ExperimentConfig]) -> str:
    """Why no rule builds `target`: the first name in it that its experiment does not define,
    with the closest and the valid ones; else where the path grammar is."""
    for pattern in PATTERNS.values():
        match = _regex(pattern).fullmatch(target) if pattern.startswith(ROOT) else None
        if match is None:
            continue
        exp = match["exp"]
        if exp not in cfgs:
            return f"no rule builds {target}: no experiment {exp!r} in this run{did_you_mean(exp, cfgs)}; experiments: {', '.join(cfgs)}"
        values = wildcard_values(cfgs[exp])
        for wildcard, value in match.groupdict().items():
            if wildcard in values and value not in values[wildcard]:
                valid = values[wildcard]
                return (f"no rule builds {target}: {wildcard} {value!r} is not in experiment {exp}"
                        f"{did_you_mean(value, valid)}; its {wildcard}s: {', '.join(valid) or 'none'}")
    return f"no rule builds {target}; {GRAMMAR}"
