"""Reading an experiment's YAML strictly: a file whose text does not say one unambiguous mapping
is an error naming the file and the line, never a silently different config.

PyYAML keeps the last of two equal keys, so a second `grpo-t1.0:` entry would replace the first
without a word; an empty file loads as None and a list as a list. All three are refused here."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config that cannot be used: a file that is missing, empty, not YAML, not a mapping or
    repeats a key, or (harness.config) a value that does not validate. The message names the
    file or the field, and the allowed values."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key repeated within one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges; keys given next to it override the merged ones
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                continue  # the SafeLoader's own error follows
            if key in first_line:
                raise ConfigError(
                    f"line {line}: duplicate key {key!r} (first at line {first_line[key]}); "
                    "YAML would silently keep only the last one, so give each key once"
                )
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _UniqueKeyLoader.construct_mapping)


def parse_config_text(text: str, source: str) -> dict[str, Any]:
    """The mapping a config's text spells, or a one-line ConfigError naming `source`."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
    except ConfigError as err:
        raise ConfigError(f"{source}, {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{source}: not valid YAML{where}: {problem}") from None
    if raw is None:
        raise ConfigError(f"{source}: the file is empty; an experiment config is a mapping (name:, seeds:, models:, methods:, ...)")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source}: the top level is a {type(raw).__name__}; an experiment config is a mapping (name:, seeds:, models:, methods:, ...)"
        )
    return raw


def read_config_file(path: Path | str) -> dict[str, Any]:
    """The mapping of a YAML config file (see parse_config_text)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    return parse_config_text(path.read_text(), str(path))
