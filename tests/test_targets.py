"""A requested path no rule builds is answered with the unknown name and the valid ones."""

from __future__ import annotations

import pytest

from harness.config import load_config
from harness.targets import requested_paths, target_hint

CFGS = {"smoke": load_config("configs/smoke.yaml")}


@pytest.mark.parametrize(("target", "hint"), [
    ("results/smoke/tiny-llama/grpo-lnear/seed0/eval/arith.json",
     "method 'grpo-lnear' is not in experiment smoke (did you mean 'grpo-linear'?); its methods: base, grpo-t1.0, grpo-linear"),
    ("results/smoke/tiny-lama/base/model", "model 'tiny-lama' is not in experiment smoke (did you mean 'tiny-llama'?)"),
    ("results/smoke/tiny-llama/base/seed0/eval/aritm.json", "benchmark 'aritm' is not in experiment smoke (did you mean 'arith'?)"),
    ("results/smoke/tables/mian.md", "table 'mian' is not in experiment smoke (did you mean 'main'?); its tables: main"),
    ("results/smok/tables/main.md", "no experiment 'smok' in this run (did you mean 'smoke'?); experiments: smoke"),
    ("results/smoke/nothing/here", "the path grammar is in the Snakefile's header and the README (Path grammar)"),
])
def test_the_unknown_name_and_the_valid_ones(target: str, hint: str) -> None:
    line = target_hint(target, CFGS)
    assert line.startswith(f"no rule builds {target}") and hint in line


def test_targets_are_read_as_snakemake_reads_its_command_line() -> None:
    argv = ["-s", "Snakefile", "results/smoke/tables/main.md", "all", "--cores", "2", "-n"]
    assert requested_paths(argv) == ["results/smoke/tables/main.md"]
