"""YAML read with line numbers, so that every problem names the line an editor must fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.model import Problem


class _Mapping(dict):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Sequence(list):
    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    pass


# libyaml's parser where PyYAML was built with it: several times faster, the same safe constructors.
# A file it rejects is read again by the pure-Python loader, whose error messages are more precise.
_FastLineLoader = type("_FastLineLoader", (yaml.CSafeLoader,), {}) if getattr(yaml, "__with_libyaml__", False) else None


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f'the key "{key}" appears twice in one block', key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _Sequence:
    sequence = _Sequence(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    # Dates stay text here and are checked later with their line: PyYAML would raise a bare
    # ValueError for an impossible date such as 2026-02-30.
    return loader.construct_scalar(node)


for _loader in filter(None, (_LineLoader, _FastLineLoader)):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_yaml(path: Path, shown: str, problems: list[Problem]) -> Any:
    """The file's YAML, its mappings and lists knowing their line numbers; None (and a problem) if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(shown, 0, "the file is not UTF-8 text; save it as UTF-8"))
        return None
    except OSError as error:
        problems.append(Problem(shown, 0, f"cannot read the file ({error.strerror})"))
        return None
    if _FastLineLoader is not None:
        try:
            return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 - a CSafeLoader subclass
        except yaml.YAMLError:
            pass  # reported below, as the pure-Python loader words it
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        reason = error.problem or "invalid YAML"
        hint = " (check the indentation and that text with ':' or '#' is in quotes)"
        problems.append(Problem(shown, line, f"not valid YAML: {reason}{hint}"))
        return None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        problems.append(Problem(shown, line, f"not valid YAML: the file contains a character YAML does not allow (code {error.character!r}); remove it"))
        return None
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        problems.append(Problem(shown, 0, f"not valid YAML: {reason}"))
        return None


def line_of(node: Any, key: str | None = None) -> int:
    """The line of a mapping's key, or of the node itself (0 when unknown)."""
    if isinstance(node, _Mapping):
        return node.key_lines.get(key, node.line) if key else node.line
    return getattr(node, "line", 0)
