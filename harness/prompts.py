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


class SftEncoder:
    """Batches of SFT examples as ids: chat prompt + solution + eos, and the index where the
    supervised answer begins. Each distinct prompt is rendered through the chat template once
    (SFT draws records with replacement: thousands of batches over the same records), and a
    batch's solutions are tokenized in one call; the ids are those of tokenizing each alone."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase):
        self.tokenizer = tokenizer
        self.prompts: dict[str, list[int]] = {}  # chat prompt text -> its ids

    def prompt(self, record: dict) -> list[int]:
        text = record["prompt"]["chat"]
        if text not in self.prompts:
            self.prompts[text] = record_prompt_ids(self.tokenizer, record, "chat")
        return self.prompts[text]

    def __call__(self, records: list[dict], solutions: list[str]) -> list[tuple[list[int], int]]:
        answers = self.tokenizer(solutions, add_special_tokens=False)["input_ids"] if solutions else []
        eos = [self.tokenizer.eos_token_id]
        return [(prompt + answer + eos, len(prompt))
                for prompt, answer in ((self.prompt(r), a) for r, a in zip(records, answers, strict=True))]
