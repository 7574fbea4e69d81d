"""Turning dataset records into token ids: chat prompts and supervised targets."""

from __future__ import annotations

from transformers import PreTrainedTokenizerBase


def prompt_ids(tokenizer: PreTrainedTokenizerBase, problem: str) -> list[int]:
    """The chat-formatted prompt for one problem, ending where the assistant's answer starts."""
    messages = [{"role": "user", "content": problem}]
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    return list(out["input_ids"] if isinstance(out, dict) or hasattr(out, "keys") else out)


def sft_example(tokenizer: PreTrainedTokenizerBase, problem: str, solution: str) -> tuple[list[int], int]:
    """Prompt + solution + eos as ids, and the index where the supervised answer begins."""
    prompt = prompt_ids(tokenizer, problem)
    answer = tokenizer.encode(solution, add_special_tokens=False) + [tokenizer.eos_token_id]
    return prompt + answer, len(prompt)
