"""The content gaps of the report: the slot that `egov-bot kb gaps` fills.

render_gaps() takes any list of GapGroup (key, citizens, messages, examples, action) and draws the top 20;
gap_groups() makes them from bot.gaps.content_gaps, the same list `egov-bot kb gaps` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from bot.gaps import Gap
from bot.report.svg import esc

TOP = 20


@dataclass(frozen=True)
class GapGroup:
    key: str                   # what identifies the group (`kb gaps --ignore KEY`)
    citizens: int              # distinct citizens who asked
    messages: int              # questions in the group
    examples: tuple[str, ...]  # up to five masked wordings
    action: str                # the proposed action, for an editor to read


def gap_groups(gaps: Iterable[Gap], titles: dict[str, str]) -> list[GapGroup]:
    """The groups of `egov-bot kb gaps` (bot.gaps.content_gaps), with their action in the report's words."""
    groups = []
    for gap in gaps:
        if gap.action == "add-wordings" and gap.entry_id:
            action = f"добавить эти формулировки к статье «{titles.get(gap.entry_id, gap.entry_id)}» ({gap.entry_id})"
        else:
            action = f"новая статья (черновик: egov-bot kb gaps, группа {gap.key})"
        groups.append(GapGroup(gap.key, gap.citizens, gap.messages, tuple(gap.examples[:5]), action))
    return groups


def render_gaps(groups: Iterable[GapGroup]) -> str:
    """The top 20 groups as a table (HTML, every text escaped)."""
    groups = list(groups)[:TOP]
    if not groups:
        return '<p class="empty">Пробелов не найдено: на все вопросы за период бот ответил сам.</p>'
    rows = []
    for n, group in enumerate(groups, start=1):
        examples = "".join(f"<li>{esc(example)}</li>" for example in group.examples)
        rows.append(f"<tr><td class=\"num\">{n}</td><td class=\"num\">{group.citizens}</td>"
                    f"<td class=\"num\">{group.messages}</td><td><ul class=\"examples\">{examples}</ul></td>"
                    f"<td>{esc(group.action)}</td></tr>")
    return ('<table class="gaps"><thead><tr><th class="num">№</th><th class="num">Жителей</th><th class="num">Вопросов</th>'
            '<th>Как спрашивали</th>'
            f'<th>Что сделать</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
