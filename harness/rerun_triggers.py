"""Snakemake reruns a job whose outputs are older than its inputs (trigger `mtime`), and by default
also one whose code, params, set of inputs or software environment changed since it ran. This
workflow relies on three of the latter: a config that changes a method's settings retrains it
through `params` (the train rule's params are the method's resolved config), one that adds
methods or seeds remakes the tables through `input` (their input set grows, no file is newer),
and a changed job script reruns its jobs through `code`. A run restricted to fewer triggers, as
in `--rerun-triggers mtime` (Snakemake's behaviour before 7.8), reports "Nothing to be done"
although the tables lack the new cells, and keeps models trained under an older config: such a
run is told at its start which of the three it dropped and what that costs."""

from __future__ import annotations

from collections.abc import Iterable

RELIED_ON = {
    "params": "a method whose settings changed keeps its model trained under the old ones",
    "input": "methods or seeds added to a config stay out of the tables (the run may say 'Nothing to be done')",
    "code": "a changed job script does not rerun its jobs",
}


def dropped_triggers_note(triggers: Iterable[str]) -> str | None:
    """A warning naming the relied-on triggers missing from `triggers` (Snakemake's names, any
    case), with the consequence of each; None when all are present."""
    present = {t.lower() for t in triggers}
    missing = [t for t in RELIED_ON if t not in present]
    if not missing:
        return None
    costs = "; ".join(f"without '{t}', {RELIED_ON[t]}" for t in missing)
    return (f"this run's rerun triggers leave out {', '.join(missing)}: {costs}. "
            "Drop --rerun-triggers (Snakemake's default is every trigger) unless that is meant.")
