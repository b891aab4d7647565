"""The public holidays of settings.yaml (`holidays:`), checked with their lines like the rest of the knowledge base.

Each item is `{date: YYYY-MM-DD, name: ...}`, with `moves: true` for a holiday whose date changes every year.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.knowledge.model import Holiday
from bot.knowledge.yaml_lines import line_of

FIELDS = ("date", "name", "moves")


def read_holidays(checker: Any, data: Any, shown: str, today: dt.date) -> tuple[Holiday, ...]:
    """The `holidays:` list of settings.yaml (`data`, already read), oldest first; each problem goes to the
    checker (a YamlChecker) with its line. A warning when none is listed for the current year."""
    if "holidays" not in data:
        return ()
    items = data["holidays"]
    if not isinstance(items, list):
        checker.error(shown, line_of(data, "holidays"),
                      "holidays must be a list of days off, one per line: - {date: 2026-03-23, name: Наурыз мейрамы}")
        return ()
    found: dict[dt.date, Holiday] = {}
    lines = getattr(items, "item_lines", [line_of(data, "holidays")] * len(items))
    for position, (item, line) in enumerate(zip(items, lines), start=1):
        if not isinstance(item, dict):
            checker.error(shown, line, f"holiday #{position} must be a block with date: and name: (e.g. {{date: 2026-01-01, name: Новый год}})")
            continue
        for key in item:
            if key not in FIELDS:
                checker.error(shown, line_of(item, key), f"holiday #{position}: unknown field '{key}' (known: {', '.join(FIELDS)})")
        raw = item.get("date")
        try:
            date = dt.date.fromisoformat(str(raw).strip()) if isinstance(raw, str) else None
        except ValueError:
            date = None
        if date is None:
            checker.error(shown, line_of(item, "date"), f"holiday #{position} needs date: as YYYY-MM-DD, a real date ('{raw}' is not)")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            checker.error(shown, line_of(item, "name"), f"holiday {date} needs a name")
            continue
        moves = item.get("moves", False)
        if not isinstance(moves, bool):
            checker.error(shown, line_of(item, "moves"), f"holiday {date}: moves must be true or false")
            continue
        if date in found:
            checker.error(shown, line_of(item, "date"), f"holiday {date} is listed twice ({found[date].name}; {name.strip()})")
            continue
        found[date] = Holiday(date, name.strip(), moves)
    if found and not any(date.year == today.year for date in found):
        checker.warn(shown, line_of(data, "holidays"), f"no public holidays listed for {today.year}: add this year's days "
                                                       f"off (the official calendar is published on egov.kz)")
    return tuple(sorted(found.values(), key=lambda h: h.date))
