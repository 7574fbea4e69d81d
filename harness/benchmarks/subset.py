"""`datasets: {name: {limit: N}}`: a seeded subset, stratified by subject and level where the
dataset has them, the same for every method and seed.

The records are put in one order that depends only on the data seed and the dataset's name,
and a limit keeps the first N of it. Each stratum (one (subject, level) pair; the whole set
when the dataset has neither) is shuffled; then the strata take turns by Balinski and Young's
quota method of apportionment ("A new method for congressional apportionment", PNAS 1975):
the next record comes from a stratum still below its upper quota, the one with the largest
size / (taken + 1), ties in a seeded order. The quota method stays within quota at every
house size, so every prefix of N records holds each stratum of n (of a total T) within one
record of its proportional share, floor(N n / T) <= taken <= ceil(N n / T). Hence:
  - `limit: 20` on MMLU is 20 questions from about 20 subjects in proportion to their sizes,
    not 20 questions of one subject;
  - a smaller limit is a prefix of a larger one (the 20-problem subset lies inside the 100);
  - `eval.limit`, which takes the first problems of the prepared records, takes a stratified
    subset of a limited dataset too.
A limit at or above the dataset's size keeps every record, in this order.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict

log = logging.getLogger(__name__)


def stratum(record: dict) -> tuple[str, str]:
    """The stratum of a record: its subject and level ('' where the dataset has none)."""
    return str(record.get("subject") or ""), str(record.get("level") or "")


def stratified_order(records: list[dict], seed: int, dataset: str, count: int | None = None) -> list[dict]:
    """The first `count` records (default: all) in the dataset's stratified order for this seed."""
    rng = random.Random(f"subset:{seed}:{dataset}")  # str seeds hash with sha512: stable across runs
    strata: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in records:
        strata[stratum(record)].append(record)
    names = sorted(strata)  # draws in a fixed order, whatever the order of the rows
    for name in names:
        strata[name].sort(key=lambda r: r["id"])
        rng.shuffle(strata[name])
    tie_rank = {name: rank for rank, name in enumerate(rng.sample(names, len(names)))}
    total, taken = len(records), dict.fromkeys(names, 0)
    order: list[dict] = []
    for house in range(1, min(count if count is not None else total, total) + 1):
        # below the upper quota at this house size: taken < house * n / total (integers, exact)
        eligible = [s for s in names if taken[s] * total < house * len(strata[s])]
        pick = max(eligible, key=lambda s: (len(strata[s]) / (taken[s] + 1), -tie_rank[s]))
        order.append(strata[pick][taken[pick]])
        taken[pick] += 1
    return order


def limited(records: list[dict], limit: int, seed: int, dataset: str) -> list[dict]:
    """The first `limit` records of the dataset's stratified order (all of them if fewer)."""
    if limit >= len(records):
        log.warning("dataset %s: limit %d keeps all %d records", dataset, limit, len(records))
    return stratified_order(records, seed, dataset, limit)
