"""HelpDesk: what the bot does with a message, for every front end (console, Telegram, tests).

It never imports telegram and returns plain results; front ends render them with the locale texts.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from bot import privacy
from bot import text as textnorm
from bot.knowledge import Entry, KnowledgeBase, KnowledgeError, Problem, load_knowledge
from bot.matching import Decision, Matcher, group_similar
from bot.tickets import Citizen, Draft, TakeResult, Ticket, TicketMessage, TicketStore, utcnow

MAX_OPEN_TICKETS = 3  # open questions per citizen; more join the newest one

# Messages made only of these words are small talk, not questions (compared after folding).
GREETING_WORDS = """привет здравствуйте здравствуй здрасте здрасьте добрый день вечер утро доброе hello hi
сәлем салем сәлеметсіз салеметсиз сәлеметсіздер ассалаумағалейкум армысыз қайырлы кайырлы таң кеш күн кун
hi hello salem бе ба"""
THANKS_WORDS = """спасибо спс благодарю большое огромное рахмет рақмет рахмет көп коп алғыс thanks thank you ok ок
хорошо понятно ясно жарайды түсінікті тусинікти тусинікти"""


@dataclass(frozen=True)
class Answer:
    entry: Entry
    lang: str
    decision: Decision
    question: str = ""


@dataclass(frozen=True)
class Clarify:
    options: tuple[Entry, ...]
    lang: str
    decision: Decision
    question: str = ""


@dataclass(frozen=True)
class Escalated:
    ticket: Ticket
    lang: str
    opens_at: dt.datetime | None = None  # set when librarians are off: when they start again
    new: bool = True                     # False: the same request was already open (a double tap)


@dataclass(frozen=True)
class FollowUp:
    """The message went to the librarians on the citizen's open ticket."""

    ticket: Ticket
    lang: str


@dataclass(frozen=True)
class SmallTalk:
    kind: str  # "greeting", "thanks", "no-words"
    lang: str


Reply = Answer | Clarify | Escalated | FollowUp | SmallTalk


@dataclass(frozen=True)
class Stats:
    days: int
    questions: int
    shares: dict[str, float]        # answer / clarify / escalate -> share of questions
    helpful: int
    not_helpful: int
    open_tickets: int
    median_first_reply: float | None  # seconds
    unmatched: list[tuple[str, int, list[str]]] = field(default_factory=list)  # (example, count, others)


class Library:
    """A knowledge base with its matcher: swapped as one piece on reload."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.matcher = Matcher(kb)

    @classmethod
    def load(cls, directory: Path | str) -> "Library":
        return cls(load_knowledge(directory))


def _word_set(words: str) -> frozenset[str]:
    return frozenset(textnorm.fold(w) for w in textnorm.tokens(textnorm.clean(words)))


class HelpDesk:
    def __init__(self, library: Library, store: TicketStore, *, hours=None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        self.library = library
        self.store = store
        self.hours = hours  # bot.config.LibrarianHours, or None: always open
        self.clock = clock
        self._greetings = _word_set(GREETING_WORDS)
        self._thanks = _word_set(THANKS_WORDS)

    # --- the knowledge base ---------------------------------------------------------------------

    def reload(self, directory: Path | str | None = None) -> list[Problem]:
        """Load the knowledge base again; on errors keep serving the last good one and return them."""
        try:
            library = Library.load(directory or self.library.kb.directory)
        except KnowledgeError as error:
            return [p for p in error.problems if p.severity == "error"]
        self.library = library
        return []

    def entry(self, entry_id: str) -> Entry | None:
        return self.library.kb.entry(entry_id)

    # --- citizens -------------------------------------------------------------------------------

    def _small_talk(self, question: str) -> str | None:
        words = _word_set(question)
        if not words:
            return "no-words"
        if words <= self._greetings:
            return "greeting"
        if words <= self._thanks | self._greetings:
            return "thanks"
        return None

    async def ask(self, citizen: Citizen, question: str, *, open_tickets: list[Ticket] | None = None) -> Reply:
        """Answer a question, offer a choice, escalate it, or add it to the citizen's open ticket.

        open_tickets: the citizen's open tickets when the caller has just read them."""
        question = question.strip()
        visible = textnorm.clean(question).strip()
        masked = privacy.mask(question)  # what is stored and shown to librarians
        if open_tickets is None:
            open_tickets = await self.store.open_tickets_of(citizen.id)
        if open_tickets and visible:
            ticket = open_tickets[-1]
            await self.store.add_message(ticket.id, "citizen", masked, author=citizen.first_name)
            return FollowUp(ticket, ticket.lang)
        decision = self.library.matcher.match(question)
        talk = self._small_talk(question)
        if talk is not None or decision.reason == "no-words":
            return SmallTalk(talk or "no-words", decision.lang)
        top = decision.candidates[0].score if decision.candidates else 0.0
        await self.store.log_question(citizen.id, masked, decision.lang, decision.decision, decision.entry, top)
        kb = self.library.kb
        if decision.decision == "answer":
            entry = kb.entry(decision.entry)
            if entry is not None:
                return Answer(entry, decision.lang, decision, question)
        if decision.decision == "clarify":
            options = tuple(e for e in (kb.entry(c.id) for c in decision.candidates) if e is not None)
            if options:
                return Clarify(options, decision.lang, decision, question)
        return await self.escalate(citizen, masked, decision.lang, candidates=scores(decision))

    async def escalate(self, citizen: Citizen, question: str, lang: str, *, kind: str = "unmatched",
                       entry_id: str | None = None, step: int | None = None,
                       candidates: list[dict] | None = None) -> Escalated:
        """Open a ticket for the librarians (its card is posted by the delivery job).

        The same request twice (a double tap on a button) gives the ticket already open.
        """
        open_tickets = await self.store.open_tickets_of(citizen.id)
        for ticket in open_tickets:
            if (ticket.question, ticket.kind, ticket.entry_id, ticket.step) == (privacy.mask(question), kind, entry_id, step):
                return Escalated(ticket, ticket.lang, None, new=False)
        if len(open_tickets) >= MAX_OPEN_TICKETS:  # enough open questions: this one joins the newest
            latest = open_tickets[-1]
            await self.store.add_message(latest.id, "citizen", privacy.mask(question), author=citizen.first_name)
            return Escalated(latest, latest.lang, None, new=False)
        ticket = await self.store.open_ticket(citizen.id, privacy.mask(question), lang, kind=kind,
                                              entry_id=entry_id, step=step, candidates=candidates)
        now = self.clock()
        opens_at = None
        if self.hours is not None and not self.hours.is_open(now):
            opens_at = self.hours.next_opening(now)
        return Escalated(ticket, lang, opens_at)

    async def pass_media(self, citizen: Citizen, media: str, caption: str, source_chat_id: int,
                         source_message_id: int) -> FollowUp | None:
        """A photo, document or voice for the citizen's open ticket; None when there is none."""
        open_tickets = await self.store.open_tickets_of(citizen.id)
        if not open_tickets:
            return None
        ticket = open_tickets[-1]
        await self.store.add_message(ticket.id, "citizen", privacy.mask(caption), author=citizen.first_name, media=media,
                                     source_chat_id=source_chat_id, source_message_id=source_message_id)
        return FollowUp(ticket, ticket.lang)

    async def privacy_warning(self, citizen: Citizen, text: str) -> bool:
        """True when the text carries personal numbers and the citizen has not been told yet."""
        return bool(privacy.contains_sensitive(text)) and await self.store.warn_private_once(citizen.id)

    async def forget(self, citizen: Citizen) -> int:
        """Delete the citizen's data (tickets kept anonymised for statistics)."""
        return await self.store.forget(citizen.id)

    async def feedback(self, citizen: Citizen, entry_id: str, helpful: bool) -> None:
        await self.store.add_feedback(citizen.id, entry_id, helpful)

    async def withdraw(self, citizen: Citizen, ticket_id: int) -> Ticket | None:
        """The citizen cancels their own open ticket."""
        ticket = await self.store.ticket(ticket_id)
        if ticket is None or ticket.citizen_id != citizen.id or not ticket.is_open:
            return None
        return await self.store.close_ticket(ticket_id, citizen.first_name or "citizen", status="withdrawn")

    async def rate(self, citizen: Citizen, ticket_id: int, rating: int) -> bool:
        if not 1 <= rating <= 5:
            return False
        return await self.store.rate(ticket_id, citizen.id, rating)

    # --- librarians -----------------------------------------------------------------------------

    async def take(self, ticket_id: int, librarian_id: int, librarian: str) -> TakeResult:
        return await self.store.take(ticket_id, librarian_id, librarian)

    async def close(self, ticket_id: int, librarian: str) -> Ticket | None:
        return await self.store.close_ticket(ticket_id, librarian)

    async def reply(self, reply_to_group_message: int, text: str, librarian: str, group_message_id: int, *,
                    media: str | None = None, source_chat_id: int | None = None,
                    source_message_id: int | None = None,
                    ticket_number: int | None = None) -> tuple[Ticket, TicketMessage] | None:
        """A librarian answered a ticket's message in the group: store the answer for delivery.

        `ticket_number` is what the replied-to message says ("#12 · ..."): used when the database does not
        know that group message (the bot was stopped between posting it and writing down its id).
        """
        ticket = await self.store.ticket_for_group_message(reply_to_group_message)
        if ticket is None and ticket_number is not None:
            ticket = await self.store.ticket(ticket_number)
        if ticket is None:
            return None
        message = await self.store.add_message(
            ticket.id, "librarian", text, author=librarian, media=media, source_chat_id=source_chat_id,
            source_message_id=source_message_id, group_message_id=group_message_id,
        )
        return ticket, message

    async def queue(self) -> list[Ticket]:
        return await self.store.open_tickets()

    async def draft(self, ticket_id: int, librarian: str) -> Draft | None:
        return await self.store.add_draft(ticket_id, librarian)

    # --- editors --------------------------------------------------------------------------------

    async def stats(self, days: int = 30) -> Stats:
        since = utcnow() - dt.timedelta(days=days)
        raw = await self.store.stats_rows(since)
        total = sum(raw["decisions"].values())
        shares = {kind: (raw["decisions"].get(kind, 0) / total if total else 0.0)
                  for kind in ("answer", "clarify", "escalate")}
        median = statistics.median(raw["waits"]) if raw["waits"] else None
        groups = group_similar(raw["unmatched"], self.library.matcher)[:20]
        return Stats(days, total, shares, raw["feedback"].get(True, 0), raw["feedback"].get(False, 0),
                     raw["open"], median, groups)

    async def drafts_yaml(self) -> str:
        """Every draft as a knowledge-base entry for an editor to review and complete."""
        entries = []
        for draft in await self.store.drafts():
            other = "kk" if draft.lang == "ru" else "ru"
            entries.append({
                "id": f"draft-{draft.ticket_id}",
                "category": "TODO",
                "title": {draft.lang: draft.question[:80], other: "TODO"},
                "questions": {draft.lang: [draft.question], other: ["TODO"]},
                "answer": {draft.lang: draft.answer, other: "TODO"},
                "links": [],
                "source": f"librarian answer to ticket #{draft.ticket_id} by {draft.created_by}",
                "reviewed": draft.created_at.date().isoformat(),
            })
        return yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=100) if entries else ""


def scores(decision: Decision) -> list[dict]:
    return [{"id": c.id, "score": round(c.score, 3)} for c in decision.candidates]
