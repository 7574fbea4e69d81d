"""Synthetic tasks and the offline tokenizer."""

import random

import pytest
from transformers import AutoTokenizer

from harness.data.arithmetic import ArithConfig, demonstration, generate_splits, parse_problem
from harness.data.tokenizer import build_tokenizer
from harness.modeling import build_tiny_llama
from harness.prompts import SftEncoder, prompt_ids


def test_splits_are_disjoint_correct_and_reproducible(splits):
    test, train = splits["test"], splits["train"]
    assert [sum(r["level"] == lv for r in test) for lv in (1, 2, 3)] == [20, 20, 20]
    assert not {r["problem"] for r in test} & {r["problem"] for r in train}
    for record in test + train:
        problem = parse_problem(record["problem"])
        assert problem.level == record["level"]
        assert eval(record["problem"].removesuffix("=?")) == int(record["answer"])  # noqa: S307
        assert record["solution"].endswith(f"\\boxed{{{record['answer']}}}")
        assert all(0 <= v <= 99 for *_, v in problem.steps())
    again = generate_splits(0, ArithConfig(levels=[1, 2, 3], test_per_level=20, train_size=300, first_max=50, term_max=9))
    assert again == splits
    assert generate_splits(1, ArithConfig(levels=[1], test_per_level=5, train_size=5, first_max=50, term_max=9)) != again


def test_worked_solution_by_hand():
    assert parse_problem("32+0-26-0+9=?").solution == r"32+0=32 32-26=6 6-0=6 6+9=15 \boxed{15}"


def test_impossible_requests_are_clear_errors():
    with pytest.raises(ValueError, match="test_per_level"):
        generate_splits(0, ArithConfig(levels=[1], test_per_level=5000, train_size=10, first_max=5, term_max=3))
    with pytest.raises(ValueError, match="term_max"):
        generate_splits(0, ArithConfig(levels=[1], test_per_level=5, train_size=10, first_max=5, term_max=60))


def test_demonstration_mixes_direct_and_worked_styles():
    record = {"problem": "3+4=?", "solution": r"3+4=7 \boxed{7}", "answer": "7"}
    rng = random.Random(0)
    styles = [demonstration(record, rng, ArithConfig(direct_rate=0.6)) for _ in range(2000)]
    assert set(styles) == {r"\boxed{7}", record["solution"]}
    assert styles.count(r"\boxed{7}") / 2000 == pytest.approx(0.6, abs=0.04)


def test_guessed_direct_answers_are_any_value_but_the_answer():
    record = {"problem": "3+4=?", "solution": r"3+4=7 \boxed{7}", "answer": "7"}
    rng = random.Random(0)
    cfg = ArithConfig(direct_rate=0.5, direct_answer="guess")
    styles = [demonstration(record, rng, cfg) for _ in range(4000)]
    guesses = [int(s.removeprefix(r"\boxed{").removesuffix("}")) for s in styles if s != record["solution"]]
    assert set(guesses) == set(range(100)) - {7}  # every value of [0, 99] but the answer
    assert len(guesses) / 4000 == pytest.approx(0.5, abs=0.03)


def test_tokenizer_round_trips_next_to_a_model(tmp_path, splits):
    """Saved beside a Llama config, AutoTokenizer must give back our tokenizer unchanged."""
    tok = build_tokenizer(f"{r['problem']} {r['solution']}" for r in splits["train"])
    build_tiny_llama(tok, 16, 1, 2, 1, 32, 64, seed=0).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    text = r"12+3=15 15-4=11 \boxed{11}"
    assert loaded.tokenize(text) == list("12+3=15 15-4=11 ") + ["\\boxed{", "1", "1", "}"]
    assert loaded.decode(loaded.encode(text)) == text
    chat = loaded.apply_chat_template([{"role": "user", "content": "3+4=?"}], add_generation_prompt=True, tokenize=False)
    assert chat == "<|user|>3+4=?<|assistant|>"
    assert loaded.eos_token == "<|eos|>" and loaded.pad_token == "<|pad|>" and loaded.padding_side == "left"


def test_sft_batches_are_the_ids_of_each_example_tokenized_alone(tmp_path, splits):
    """SftEncoder renders each distinct prompt once and tokenizes a batch's solutions in one call:
    the ids must be those of the chat prompt, the solution and eos tokenized one example at a time."""
    tok = build_tokenizer(f"{r['problem']} {r['solution']}" for r in splits["train"])
    tok.save_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)  # the class a job loads
    records = [{"prompt": {"chat": r["problem"]}} for r in splits["train"][:3]]
    batch = [records[0], records[1], records[0], records[2], records[0]]  # drawn with replacement
    solutions = [r["solution"] for r in splits["train"][:5]]
    encode = SftEncoder(tok)
    for _ in range(2):  # the second batch reads every prompt from the memo
        examples = encode(batch, solutions)
        for (ids, start), record, solution in zip(examples, batch, solutions, strict=True):
            prompt = prompt_ids(tok, record["prompt"]["chat"])
            assert ids == prompt + tok.encode(solution, add_special_tokens=False) + [tok.eos_token_id]
            assert start == len(prompt) and ids[:start] == prompt
    assert len(encode.prompts) == 3
    with pytest.raises(ValueError):
        encode(batch, solutions[:4])
