"""The content gaps of the report: the slot that `egov-bot kb gaps` fills.

render_gaps() takes any list of GapGroup (key, citizens, messages, examples, action) and draws the top 20.
Until the gap list of `kb gaps` is merged, interim_gaps() makes the groups from the escalated questions with
bot.matching.group_similar, so the report shows real data from the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from bot.matching import Matcher, group_similar
from bot.report.svg import esc

TOP = 20


@dataclass(frozen=True)
class GapGroup:
    key: str                   # what identifies the group (`kb gaps --ignore KEY`)
    citizens: int              # distinct citizens who asked
    messages: int              # questions in the group
    examples: tuple[str, ...]  # up to five masked wordings
    action: str                # the proposed action, for an editor to read


def interim_gaps(rows: Sequence[tuple[str, int | None]], matcher: Matcher, titles: dict[str, str]) -> list[GapGroup]:
    """Groups of the escalated questions (masked question, citizen id), the most citizens first.

    group_similar() names up to four wordings of a group; its citizens are counted over those wordings."""
    askers: dict[str, set] = {}
    for question, citizen in rows:
        askers.setdefault(question, set()).add(citizen if citizen is not None else ("anonymous", question))
    groups = []
    for example, count, others in group_similar([question for question, _ in rows], matcher):
        wordings = (example, *others)
        citizens = len(set().union(*(askers.get(w, set()) for w in wordings)))
        decision = matcher.match(example)  # close to an entry: the matcher would offer it among a choice
        near = decision.candidates[0].id if decision.action == "clarify" and decision.candidates else None
        if near in titles:
            action = f"добавить эти формулировки к статье «{titles[near]}» ({near})"
        else:
            action = "новая статья"
        groups.append(GapGroup(example, citizens, count, wordings[:5], action))
    groups.sort(key=lambda g: (-g.citizens, -g.messages, g.key))
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
