"""An offline Hugging Face tokenizer for the tiny setting, built from the generated corpus.

Character-level, except that ``\\boxed{`` is one token: a response step ``12-3=9`` is six
tokens. Digit tokens make arithmetic compositional (a few digit facts and carries shared by
every problem), so what RL sharpens on some problems transfers to the others; with whole-number
tokens each of thousands of facts is a separate lookup and RL barely generalises. The
tokenizer carries a chat template, eos and pad tokens and loads with
``AutoTokenizer.from_pretrained`` like any hub tokenizer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

PAD, EOS, UNK, USER, ASSISTANT = "<|pad|>", "<|eos|>", "<|unk|>", "<|user|>", "<|assistant|>"

# Plain chat markup: <|user|>{question}<|assistant|>{answer}<|eos|>
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'user' %}" + USER + "{{ m['content'] }}"
    "{% elif m['role'] == 'assistant' %}" + ASSISTANT + "{{ m['content'] }}" + EOS + "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}" + ASSISTANT + "{% endif %}"
)


def build_tokenizer(corpus: Iterable[str]) -> PreTrainedTokenizerFast:
    """Word-level vocabulary over ``\\boxed{`` and the single characters seen in `corpus`."""
    core = Tokenizer(models.WordLevel(unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"\\boxed\{|."), behavior="isolated")
    core.decoder = decoders.Fuse()
    core.train_from_iterator(
        corpus, trainer=trainers.WordLevelTrainer(special_tokens=[PAD, EOS, UNK, USER, ASSISTANT])
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        chat_template=CHAT_TEMPLATE,
        padding_side="left",  # prompts are left-padded so every row's generation starts together
    )


def save_tokenizer(corpus: Iterable[str], out_dir: Path) -> PreTrainedTokenizerFast:
    tokenizer = build_tokenizer(corpus)
    tokenizer.save_pretrained(out_dir)
    return tokenizer
