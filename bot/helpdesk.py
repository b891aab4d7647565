"""HelpDesk: what the bot does with a citizen's message, for every front end (console, Telegram, tests).

It never imports telegram and returns plain results; front ends render them with the locale texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot import text as textnorm
from bot.knowledge import Entry, KnowledgeBase, KnowledgeError, Problem, load_knowledge
from bot.matching import Decision, Matcher
from bot.tickets import Citizen, Ticket, TicketStore

# Messages made only of these words are small talk, not questions (compared after stemming).
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


@dataclass(frozen=True)
class Clarify:
    options: tuple[Entry, ...]
    lang: str
    decision: Decision


@dataclass(frozen=True)
class Escalated:
    ticket: Ticket
    lang: str


@dataclass(frozen=True)
class SmallTalk:
    kind: str  # "greeting", "thanks", "no-words"
    lang: str


Reply = Answer | Clarify | Escalated | SmallTalk


class Library:
    """A knowledge base with its matcher: swapped as one piece on reload."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.matcher = Matcher(kb)

    @classmethod
    def load(cls, directory: Path | str) -> "Library":
        return cls(load_knowledge(directory))


def _stem_set(words: str) -> frozenset[str]:
    return frozenset(textnorm.fold(w) for w in textnorm.tokens(textnorm.clean(words)))


class HelpDesk:
    def __init__(self, library: Library, store: TicketStore) -> None:
        self.library = library
        self.store = store
        self._greetings = _stem_set(GREETING_WORDS)
        self._thanks = _stem_set(THANKS_WORDS)

    def reload(self, directory: Path | str | None = None) -> list[Problem]:
        """Load the knowledge base again; on errors keep serving the last good one and return them."""
        try:
            self.library = Library.load(directory or self.library.kb.directory)
        except KnowledgeError as error:
            return [p for p in error.problems if p.severity == "error"]
        return []

    def _small_talk(self, question: str) -> str | None:
        words = {textnorm.fold(w) for w in textnorm.tokens(textnorm.clean(question))}
        if not words:
            return "no-words"
        if words <= self._greetings:
            return "greeting"
        if words <= self._thanks | self._greetings:
            return "thanks"
        return None

    async def ask(self, citizen: Citizen, question: str) -> Reply:
        """Answer a question, offer a choice, or escalate it to the librarians."""
        decision = self.library.matcher.match(question)
        talk = self._small_talk(question)
        if talk is not None or decision.reason == "no-words":
            return SmallTalk(talk or "no-words", decision.lang)
        top = decision.candidates[0].score if decision.candidates else 0.0
        await self.store.log_question(citizen.id, question, decision.lang, decision.decision, decision.entry, top)
        kb = self.library.kb
        if decision.decision == "answer":
            entry = kb.entry(decision.entry)
            if entry is not None:
                return Answer(entry, decision.lang, decision)
        if decision.decision == "clarify":
            options = tuple(e for e in (kb.entry(c.id) for c in decision.candidates) if e is not None)
            if options:
                return Clarify(options, decision.lang, decision)
        return await self.escalate(citizen, question, decision.lang, candidates=_scores(decision))

    def entry(self, entry_id: str) -> Entry | None:
        return self.library.kb.entry(entry_id)

    async def escalate(self, citizen: Citizen, question: str, lang: str, *, kind: str = "unmatched",
                       entry_id: str | None = None, step: int | None = None,
                       candidates: list[dict] | None = None) -> Escalated:
        """Open a ticket for the librarians."""
        ticket = await self.store.open_ticket(citizen.id, question, lang, kind=kind, entry_id=entry_id,
                                              step=step, candidates=candidates)
        return Escalated(ticket, lang)


def _scores(decision: Decision) -> list[dict]:
    return [{"id": c.id, "score": round(c.score, 3)} for c in decision.candidates]
