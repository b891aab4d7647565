"""Suggested answers: the knowledge-base entries that best fit a ticket's question (buttons on its card), a
librarian's answer with one of them, and the wordings such answers leave for editors (`egov-bot kb suggestions`).

An answer with an entry is a librarian's answer like a typed one (stored first, delivered by the outbox, it
counts for the conversation window and the idle close); the front end shows the citizen the entry itself.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass

import yaml

from bot import text as textnorm
from bot.domain import FORGOTTEN, Action, Ticket, TicketMessage, TicketStatus
from bot.knowledge import Entry
from bot.knowledge.indexed import Knowledge
from bot.storage import Storage

# Which entries are suggested: the matcher's candidates for the ticket's question scoring at least FLOOR
# (the blended score, as ranked) and within WINDOW of the best one, at most MAX. Escalated questions score
# under the answer threshold by definition; on the escalated questions of both evaluation sets the right
# entry scores 0.32-0.54 and is among these for 10 of the 11 answerable ones (see README).
FLOOR = 0.3
WINDOW = 0.1
MAX = 3


def suggestions(knowledge: Knowledge, ticket: Ticket) -> tuple[Entry, ...]:
    """The entries to offer on an open ticket's card, best first; none when nothing fits well enough. The
    entry a "not helpful" or "stuck" ticket names is left out: the citizen has read it."""
    if not ticket.is_open or ticket.question == FORGOTTEN:
        return ()
    candidates = knowledge.matcher.match(ticket.question).candidates
    if not candidates:
        return ()
    best = candidates[0].score
    found = []
    for candidate in candidates:
        entry = knowledge.kb.entry(candidate.id)
        if candidate.score >= max(FLOOR, best - WINDOW) and entry is not None and entry.id != ticket.entry_id:
            found.append(entry)
    return tuple(found[:MAX])


def plain_text(entry: Entry, lang: str) -> str:
    """The entry as plain text in `lang` (title, answer, links): what is stored with the answer, and what a
    front end without the entry's own rendering (the console) shows."""
    lang = lang if lang in ("ru", "kk") else "ru"
    lines = [entry.title[lang], "", entry.answer[lang].strip()]
    if entry.links:
        lines += [""] + [f"{link.title.get(lang, link.url_for(lang))}: {link.url_for(lang)}" for link in entry.links]
    return "\n".join(lines)


@dataclass(frozen=True)
class EntryAnswer:
    """What became of a librarian's answer with an entry. `refused`: None (stored for delivery), "missing"
    (no such ticket), "closed", "withdrawn", "forgotten", "entry" (no such entry, e.g. removed by /reload),
    "repeated" (this ticket already got this entry)."""

    ticket: Ticket | None
    entry: Entry | None
    refused: str | None = None
    message: TicketMessage | None = None
    suggestions: tuple[Entry, ...] = ()  # what fits the ticket: the choices a refusal names


async def answer_with(store: Storage, knowledge: Knowledge, ticket_id: int, entry_id: str, librarian: str,
                      librarian_id: int) -> EntryAnswer:
    """Answer the ticket with the entry in the ticket's language: stored for delivery (once per ticket and
    entry), with the citizen's question kept as a suggested wording; an open ticket is taken by the librarian."""
    ticket = await store.tickets.get(ticket_id)
    if ticket is None:
        return EntryAnswer(None, None, "missing")
    entry = knowledge.kb.entry(entry_id)
    offered = suggestions(knowledge, ticket)
    if ticket.question == FORGOTTEN or ticket.status == TicketStatus.WITHDRAWN:
        return EntryAnswer(ticket, entry, "forgotten" if ticket.question == FORGOTTEN else "withdrawn")
    if not ticket.is_open:
        return EntryAnswer(ticket, entry, "closed")
    if entry is None:
        return EntryAnswer(ticket, None, "entry", suggestions=offered)
    message, refused = await store.suggested.answer(ticket.id, entry.id, ticket.question, ticket.lang,
                                                    plain_text(entry, ticket.lang), librarian)
    if message is None:
        return EntryAnswer(await store.tickets.get(ticket.id) or ticket, entry, refused, suggestions=offered)
    if ticket.status == TicketStatus.OPEN:
        await store.tickets.take(ticket.id, librarian_id, librarian)
    return EntryAnswer(await store.tickets.get(ticket.id) or ticket, entry, None, message, offered)


def _key(question: str) -> str:
    """The same wording whatever its case, punctuation, ё/е or Kazakh letters typed as Russian ones."""
    return " ".join(textnorm.fold(word) for word in textnorm.tokens(textnorm.clean(question)))


def _scalar(value: str) -> str:
    """A YAML scalar for a list item: plain when it reads back as itself, else double-quoted."""
    try:
        plain = "#" not in value and yaml.safe_load(f"- {value}") == [value]
    except yaml.YAMLError:
        plain = False
    return value if plain else json.dumps(value, ensure_ascii=False)


async def variants_yaml(store: Storage, knowledge: Knowledge) -> str:
    """The suggested wordings grouped by entry, as YAML: under each entry id's `questions`, per language, the
    wordings to paste into the entry's own, indented as there, each with how many tickets used it. Wordings the entry already has,
    or that the matcher already answers with that entry, are left out; so are entries no longer there."""
    kb, matcher = knowledge.kb, knowledge.matcher
    counts: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    shown: dict[str, str] = {}  # a wording's key -> its first spelling
    for variant in await store.suggested.variants():
        entry, key = kb.entry(variant.entry_id), _key(variant.question)
        if entry is None or not key or variant.question == FORGOTTEN:
            continue
        counts[entry.id][variant.lang if variant.lang in ("ru", "kk") else "ru"][key] += 1
        shown.setdefault(key, " ".join(variant.question.split()))
    blocks = []
    for entry_id, by_lang in counts.items():
        entry = kb.entry(entry_id)
        known = {_key(question) for _, question in entry.all_questions()}
        lines, total = [], 0
        for lang in ("ru", "kk"):
            fresh = [(key, n) for key, n in by_lang.get(lang, Counter()).most_common() if key not in known]
            fresh = [(key, n) for key, n in fresh
                     if not ((d := matcher.match(shown[key])).action == Action.ANSWER and d.entry_id == entry.id)]
            if fresh:
                lines.append(f"    {lang}:")  # indented as in knowledge/services/*.yaml: paste under `questions:`
                lines += [f"      - {_scalar(shown[key])}  # {n}" for key, n in fresh]
                total += sum(n for _, n in fresh)
        if lines:
            where = f"{entry.path}:{entry.line}" if entry.path else "knowledge/"
            blocks.append((total, f"{entry.id}:  # {entry.title['ru']} ({where}); {total} answered\n  questions:\n"
                           + "\n".join(lines)))
    blocks.sort(key=lambda block: -block[0])
    return "\n".join(text for _, text in blocks) + ("\n" if blocks else "")
