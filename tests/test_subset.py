"""`datasets.<name>.limit`: a seeded subset, stratified by subject and level, the same for every
method and seed, in a stable order whose every prefix is stratified."""

from __future__ import annotations

import math
import random
from collections import Counter

from harness.benchmarks import DatasetOverride, get_spec, load_benchmark
from harness.benchmarks.subset import limited, stratified_order, stratum

# 1,000 records in strata of 500 / 300 / 150 / 50 (subject x level).
SIZES = {("algebra", "1"): 500, ("algebra", "2"): 300, ("geometry", "1"): 150, ("geometry", "2"): 50}
RECORDS = [
    {"id": f"{s}-{lv}-{i}", "subject": s, "level": lv} for (s, lv), n in SIZES.items() for i in range(n)
]


def test_every_prefix_holds_each_stratum_within_its_quota():
    taken: Counter = Counter()
    for house, record in enumerate(stratified_order(RECORDS, seed=0, dataset="d"), start=1):
        taken[stratum(record)] += 1
        for name, size in SIZES.items():
            share = house * size / len(RECORDS)
            assert math.floor(share) <= taken[name] <= math.ceil(share), (house, name, taken[name], share)
    assert taken == Counter(SIZES)


def test_a_stratum_without_subject_or_level_is_the_whole_set():
    rows = [{"id": str(i)} for i in range(50)]
    assert {stratum(r) for r in rows} == {("", "")}
    assert sorted(r["id"] for r in limited(rows, 50, 0, "d")) == sorted(r["id"] for r in rows)


def test_order_depends_on_seed_and_dataset_only_not_on_row_order():
    shuffled = RECORDS[:]
    random.Random(1).shuffle(shuffled)
    ids = [r["id"] for r in limited(RECORDS, 40, seed=3, dataset="mmlu")]
    assert [r["id"] for r in limited(shuffled, 40, seed=3, dataset="mmlu")] == ids
    assert [r["id"] for r in limited(RECORDS, 40, seed=4, dataset="mmlu")] != ids
    assert [r["id"] for r in limited(RECORDS, 40, seed=3, dataset="mmlu-pro")] != ids
    assert len(set(ids)) == 40


def test_a_smaller_limit_is_a_prefix_of_a_larger_one():
    assert limited(RECORDS, 20, 0, "d") == limited(RECORDS, 100, 0, "d")[:20]


def test_limit_above_the_size_keeps_every_record_in_the_subset_order(caplog):
    everything = limited(RECORDS, 5000, 0, "d")
    assert everything == stratified_order(RECORDS, 0, "d") and len(everything) == len(RECORDS)
    assert "limit 5000 keeps all 1000 records" in caplog.text


def test_mmlu_limit_is_mixed_subjects_in_proportion_and_the_same_every_time():
    everything = load_benchmark(get_spec("mmlu"), None, seed=0)
    sizes = Counter(r["subject"] for r in everything)  # 57 subjects of 100 to 1,534 questions
    for limit in (20, 100):
        first = load_benchmark(get_spec("mmlu"), DatasetOverride(limit=limit), seed=0)
        again = load_benchmark(get_spec("mmlu"), DatasetOverride(limit=limit), seed=0)
        assert [r["id"] for r in first] == [r["id"] for r in again] and len(first) == limit
        taken = Counter(r["subject"] for r in first)
        for subject, size in sizes.items():
            share = limit * size / len(everything)
            assert math.floor(share) <= taken[subject] <= math.ceil(share), (subject, taken[subject], share)
    assert len(Counter(r["subject"] for r in first[:20])) >= 15
