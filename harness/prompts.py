"""Turning records into token ids: chat or plain prompts, and supervised targets."""

from __future__ import annotations

from typing import Literal

from transformers import PreTrainedTokenizerBase

PromptFormat = Literal["chat", "plain"]


def prompt_ids(tokenizer: PreTrainedTokenizerBase, text: str, fmt: PromptFormat = "chat") -> list[int]:
    """The prompt for one problem, ending where the model's answer starts: `text` as the user
    turn of the tokenizer's chat template, or `text` itself (with the tokenizer's BOS, if any)."""
    if fmt == "plain":
        return tokenizer.encode(text, add_special_tokens=True)
    messages = [{"role": "user", "content": text}]
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    return list(out["input_ids"] if isinstance(out, dict) or hasattr(out, "keys") else out)


def record_prompt_ids(tokenizer: PreTrainedTokenizerBase, record: dict, fmt: PromptFormat) -> list[int]:
    """A benchmark record's prompt (its registered template, rendered at data preparation)."""
    return prompt_ids(tokenizer, record["prompt"][fmt], fmt)


def sft_example(tokenizer: PreTrainedTokenizerBase, record: dict, solution: str) -> tuple[list[int], int]:
    """Chat prompt + solution + eos as ids, and the index where the supervised answer begins."""
    prompt = record_prompt_ids(tokenizer, record, "chat")
    answer = tokenizer.encode(solution, add_special_tokens=False) + [tokenizer.eos_token_id]
    return prompt + answer, len(prompt)
