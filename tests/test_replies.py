"""The answer extractors against hand labels on real replies (tests/data/replies.jsonl; how the
set was made: tests/data/README.md): SmolLM2-135M-Instruct on MMLU, CHAMP and HumanEval prompts,
plus synthetic edge cases. Every disagreement is printed; at least 98% of the multiple-choice and
math replies must agree in both readings, and at least 98% of the code replies on the block run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from harness.answers import final_answer, last_boxed
from harness.benchmarks.choice import extract_letter, flexible_letter
from harness.codejudge import FENCE, PYTHON_TAGS, extract_code
from harness.io import read_jsonl

REPLIES = Path(__file__).parent / "data" / "replies.jsonl"
NONE = "none"


def code_block(reply: str, entry_point: str) -> str:
    """Which code of a reply `extract_code` runs: 'block i' (0-based among the Python fenced
    blocks), 'whole' (the reply itself), or 'none' (empty)."""
    code = extract_code(reply, entry_point)
    blocks = [body for tag, body in FENCE.findall(reply) if tag.lower() in PYTHON_TAGS]
    if code in blocks:
        return f"block {len(blocks) - 1 - blocks[::-1].index(code)}"
    return "whole" if code.strip() else NONE


def canonical(answer: str) -> str:
    """A label or reading without spaces, dollar signs and one pair of outer parentheses: "(2x)"
    is the answer 2x (math-verify compares the values; this compares what was read)."""
    answer = answer.replace(" ", "").replace("$", "")
    return answer[1:-1] if answer.startswith("(") and answer.endswith(")") else answer


def excerpt(reply: str) -> str:
    """Where a reply's answer usually is: its opening and its end."""
    return repr(reply) if len(reply) <= 400 else f"{reply[:200]!r} ... {reply[-200:]!r}"


def readings(row: dict) -> dict[str, str]:
    """What the extractors read in one labelled reply, by reading, as the labels write it."""
    reply = row["reply"]
    if row["task"] == "choice":
        return {"strict": extract_letter(reply, len(row["options"])) or NONE, "flexible": flexible_letter(reply, row["options"]) or NONE}
    if row["task"] == "math":
        return {"strict": last_boxed(reply) or NONE, "flexible": final_answer(reply) or NONE}
    return {"code": code_block(reply, row["entry_point"])}


def disagreements(rows: list[dict]) -> list[str]:
    """Every row whose readings differ from its labels, described for the test output."""
    out = []
    for row in rows:
        read = readings(row)
        wrong = {k: (row["labels"][k], v) for k, v in read.items() if canonical(row["labels"][k]) != canonical(v)}
        if wrong:
            out.append(f"{row['source']} {row['benchmark']} {row['id']} #{row['sample']} (T={row.get('temperature')}): "
                       f"(label, read) {wrong}\n    {excerpt(row['reply'])}")
    return out


ROWS = read_jsonl(REPLIES)


def test_the_set_holds_real_replies_of_every_kind():
    sources = Counter((r["source"], r["benchmark"]) for r in ROWS)
    assert sum(n for (source, _), n in sources.items() if source == "smollm2") >= 300, sources
    assert {b for s, b in sources if s == "smollm2"} == {"mmlu", "champ", "humaneval"}
    assert len({r["subject"] for r in ROWS if r["source"] == "smollm2" and r["benchmark"] == "mmlu"}) >= 10


def test_answer_extractors_agree_with_hand_labels():
    rows = [r for r in ROWS if r["task"] in ("choice", "math")]
    wrong = disagreements(rows)
    print(f"\n{len(wrong)} of {len(rows)} multiple-choice and math replies disagree with their labels:")
    print("\n".join(wrong))
    assert len(wrong) <= 0.02 * len(rows)


def test_code_extraction_agrees_with_hand_labels():
    """The block a grader runs defines the entry point (the last such block), not a usage
    example after it."""
    rows = [r for r in ROWS if r["task"] == "code"]
    wrong = disagreements(rows)
    print(f"\n{len(wrong)} of {len(rows)} code replies disagree with their labels:")
    print("\n".join(wrong))
    assert len(wrong) <= 0.02 * len(rows)
