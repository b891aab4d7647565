"""knowledge/notices.yaml: notices of temporary changes (a portal outage, a procedure that changes on a known
date), read and checked with file:line. The file is optional; it holds one list:

    notices:
      - id: portal-works-2026-03-01   # lower-case-with-dashes, unique
        text: {ru: ..., kk: ...}      # shown under the answers it concerns, in the citizen's language
        entries: [eds-obtain]         # the entries it concerns, and/or
        categories: [eds]             # every entry of these categories
        starts: 2026-03-01            # the first day it is shown (the librarians' local date)
        ends: 2026-03-02              # the last day it is shown

A notice that ended before today is a warning (remove it); an end before its start is an error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.knowledge.model import Notice
from bot.knowledge.yaml_lines import line_of

NOTICES_FILE = "notices.yaml"
NOTICE_TEXT_LIMIT = 400  # characters: a notice is a line or two under an answer, not an answer of its own
FIELDS = ("id", "text", "entries", "categories", "starts", "ends")


def load_notices(checker, entries: set[str], categories: set[str], domains: tuple[str, ...],
                 today: dt.date) -> list[Notice]:
    """The notices of the checker's directory (a bot.knowledge.checking.YamlChecker) in file order; each
    problem goes to the checker with its line."""
    shown, data = checker.read(NOTICES_FILE)
    if data is None:
        return []  # an empty file, or one that is not YAML (then reported)
    if not isinstance(data, dict) or "notices" not in data:
        checker.error(shown, line_of(data), "expected 'notices:' followed by a list of notices (or notices: [] for none)")
        return []
    items = data["notices"]
    if items is None:
        return []
    if not isinstance(items, list):
        checker.error(shown, line_of(data, "notices"), "notices must be a list (each notice starting with '- id:')")
        return []
    for key in data:
        if key != "notices":
            checker.error(shown, line_of(data, key), f"unknown key '{key}' (the file has only notices:)")
    lines = getattr(items, "item_lines", [line_of(items)] * len(items))
    found = [_notice(checker, item, position, line, shown, entries, categories, domains, today)
             for position, (item, line) in enumerate(zip(items, lines), start=1)]
    return checker.first_of_each_id([notice for notice in found if notice is not None], shown, "notice")


def _notice(checker, item: Any, position: int, line: int, path: str, entries: set[str], categories: set[str],
            domains: tuple[str, ...], today: dt.date) -> Notice | None:
    notice_id = checker.block_id(item, position, path, "notice", FIELDS, line=line, example="portal-works-march",
                                 shape="with id, text, entries or categories, starts and ends")
    if notice_id is None:
        return None
    owner = f"notice {notice_id}"
    text = checker.texts(item, "text", path, owner, what="text")
    checker.short_texts(item, "text", text, path, owner, NOTICE_TEXT_LIMIT, domains)
    concerned = _ids(checker, item, "entries", path, owner, entries, "entry", "the services/*.yaml files")
    kinds = _ids(checker, item, "categories", path, owner, categories, "category", "categories.yaml")
    if "entries" not in item and "categories" not in item:
        checker.error(path, line_of(item), f"{owner} concerns nothing: give entries: [entry-id, ...] or categories: [category-id, ...]")
    starts = _date(checker, item, "starts", path, owner)
    ends = _date(checker, item, "ends", path, owner)
    if starts is None or ends is None:
        return None
    if ends < starts:
        checker.error(path, line_of(item, "ends"), f"{owner} ends on {ends}, before it starts ({starts})")
        return None
    if ends < today:
        checker.warn(path, line_of(item, "ends"), f"{owner} ended on {ends}: citizens no longer see it; remove it")
    return Notice(notice_id, text, concerned, kinds, starts, ends, path, line_of(item))


def _ids(checker, item: Any, key: str, path: str, owner: str, known: set[str], what: str, where: str) -> tuple[str, ...]:
    """A list of entry or category ids, each known."""
    if key not in item:
        return ()
    value = item[key]
    if not isinstance(value, list) or not value:
        checker.error(path, line_of(item, key), f"{owner}: {key} must be a list of {what} ids, like [{'eds-obtain' if what == 'entry' else 'eds'}]")
        return ()
    result = []
    for name in value:
        if not isinstance(name, str) or name not in known:
            checker.error(path, line_of(item, key), f"{owner}: unknown {what} '{name}' (see {where})")
        elif name not in result:
            result.append(name)
    return tuple(result)


def _date(checker, item: Any, key: str, path: str, owner: str) -> dt.date | None:
    raw = item.get(key)
    try:
        day = dt.date.fromisoformat(raw.strip()) if isinstance(raw, str) else None
    except ValueError:
        day = None
    if day is None:
        shown = "" if raw is None else f" ('{raw}' is not a real date)"
        checker.error(path, line_of(item, key) or line_of(item), f"{owner} needs {key}: with a date like 2026-03-01{shown}")
    return day
