"""The checks every YAML file of the knowledge folder shares: problems with file:line, {ru, kk} text blocks,
ids of list items, official links."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.knowledge.model import ID_PATTERN, LANGUAGE_NAMES, LANGUAGES, URL_IN_TEXT, Problem
from bot.knowledge.yaml_lines import line_of, read_yaml


class YamlChecker:
    """Collects problems with file:line; checks the {ru, kk} text blocks shared by every YAML file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.directory.parent))
        except ValueError:
            return str(path)

    def read(self, name: str, *, required: str = "") -> tuple[str, Any]:
        """(the file as shown in problems, its YAML or None) for a file of the directory. A missing file is
        None, and an error when `required` says what it is for; a file that is not YAML is reported."""
        path = self.directory / name
        shown = self.shown(path)
        if not path.is_file():
            if required:
                self.error(shown, 0, f"the file is missing: it {required}")
            return shown, None
        return shown, read_yaml(path, shown, self.problems)

    def error(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def warn(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, "warning"))

    def block_id(self, item: Any, position: int, path: str, what: str, fields, *, shape: str, example: str,
                 line: int | None = None) -> str | None:
        """The id of one YAML block of a list (an entry, a reply, a notice); None, reported, when the item is not a
        block or has no proper id. Fields other than `fields` are reported too."""
        if not isinstance(item, dict):
            self.error(path, line_of(item) if line is None else line, f"{what} #{position} is not a block {shape}")
            return None
        item_id = item.get("id")
        if not isinstance(item_id, str) or not ID_PATTERN.match(item_id):
            self.error(path, line_of(item, "id"), f"{what} #{position} needs an id in lower-case-with-dashes, like {example}")
            return None
        for key in item:
            if key not in fields:
                self.error(path, line_of(item, key), f"{what} {item_id}: unknown field '{key}' (known: {', '.join(fields)})")
        return item_id

    def first_of_each_id(self, items: list, path: str, what: str) -> list:
        """Items (with .id and .line) in order, each id once; a later one with the same id is reported and left out."""
        seen: dict[str, Any] = {}
        for item in items:
            if item.id in seen:
                self.error(path, item.line, f"{what} id {item.id} is used twice (also line {seen[item.id].line})")
            else:
                seen[item.id] = item
        return list(seen.values())

    def short_texts(self, item: Any, key: str, texts: dict[str, str], path: str, owner: str, limit: int,
                    domains=None) -> None:
        """Each language's text of item[key] under `limit` characters, and (with domains) linking only official sites."""
        for lang, value in texts.items():
            line = line_of(item.get(key), lang)
            if len(value) > limit:
                self.error(path, line, f"{owner}: the {LANGUAGE_NAMES[lang]} {key} has {len(value)} characters; "
                                       f"keep it under {limit}")
            if domains is not None:
                self.official_links(value, path, line, owner, domains)

    def official_links(self, text: str, path: str, line: int, owner: str, domains) -> None:
        """Every address written in a text must be on an official site."""
        for url in URL_IN_TEXT.findall(text):
            host = (urlsplit(url).hostname or "").lower()
            if not any(host == d or host.endswith("." + d) for d in domains):
                self.error(path, line, f"{owner}: {url} is not on an official site ({', '.join(domains)}; see settings.yaml)")

    def texts(self, node: Any, key: str, path: str, owner: str, *, what: str) -> dict[str, str]:
        """A {ru, kk} block of non-empty strings; reports each missing language."""
        value = node.get(key)
        line = line_of(node, key)
        if not isinstance(value, dict):
            self.error(path, line, f"{owner} has no {what} (expected {key}: with ru: and kk:)")
            return {}
        result = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if text is None or (isinstance(text, str) and not text.strip()):
                self.error(path, line_of(value, lang) or line, f"{owner} has no {LANGUAGE_NAMES[lang]} {what}")
            elif not isinstance(text, (str, int, float)):
                self.error(path, line_of(value, lang), f"{owner}: {what} in {lang} must be text")
            else:
                result[lang] = str(text).strip()
        for extra in value:
            if extra not in LANGUAGES:
                self.error(path, line_of(value, extra), f"{owner}: unknown language '{extra}' in {key} (use ru and kk)")
        return result

    def text_lists(self, node: Any, key: str, path: str, owner: str, *, what: str, required: bool):
        value = node.get(key)
        line = line_of(node, key)
        if value is None:
            if required:
                self.error(path, line, f"{owner} has no {what}")
            return {}, {}
        if not isinstance(value, dict):
            self.error(path, line, f"{owner}: {key} must have ru: and kk: lists")
            return {}, {}
        result: dict[str, tuple[str, ...]] = {}
        lines: dict[str, int] = {}
        for lang in LANGUAGES:
            items = value.get(lang)
            if not items:
                self.error(path, line_of(value, lang) or line, f"{owner} has no {LANGUAGE_NAMES[lang]} {what}")
                continue
            if not isinstance(items, list):
                self.error(path, line_of(value, lang), f"{owner}: {what} in {lang} must be a list (lines starting with '- ')")
                continue
            kept = []
            for item, item_line in zip(items, getattr(items, "item_lines", [line] * len(items))):
                if not isinstance(item, (str, int, float)) or not str(item).strip():
                    self.error(path, item_line, f"{owner}: an empty or non-text item in {what} ({lang})")
                    continue
                text = str(item).strip()
                if text in kept:
                    self.warn(path, item_line, f"{owner}: '{text}' is listed twice")
                    continue
                kept.append(text)
                lines[f"{lang}:{text}"] = item_line
            result[lang] = tuple(kept)
        for extra in value:
            if extra not in LANGUAGES:
                self.error(path, line_of(value, extra), f"{owner}: unknown language '{extra}' in {key} (use ru and kk)")
        return result, lines
