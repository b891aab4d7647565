"""The plain results of the HelpDesk, for the front ends to render (they never carry Telegram markup)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.knowledge import Entry, Notice
from bot.matching import Decision
from bot.domain import Ticket, TicketMessage

TICKET_MENTION = re.compile(r"#(\d{1,9})\b")  # every bot message about a ticket names it: "#12"


@dataclass(frozen=True)
class Answer:
    entry: Entry
    lang: str
    decision: Decision
    question: str = ""
    pending: int | None = None  # a ticket of this citizen the librarians still have
    notices: tuple[Notice, ...] = ()  # active today under this entry (bot.notices)


@dataclass(frozen=True)
class Clarify:
    options: tuple[Entry, ...]
    lang: str
    decision: Decision
    question: str = ""
    pending: int | None = None


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
    kind: str  # "greeting" (also with "I have a question"), "thanks", "digits" (a bare number), "no-words"
    lang: str


@dataclass(frozen=True)
class Rated:
    """A bare 1-5 while a closed ticket's rating prompt was open: the rating is recorded."""

    ticket_id: int
    rating: int
    lang: str


Reply = Answer | Clarify | Escalated | FollowUp | SmallTalk | Rated


@dataclass(frozen=True)
class LibrarianAnswer:
    """A librarian's answer for the citizen (on a front end that shows it itself)."""

    ticket_id: int
    text: str
    media: str | None = None


@dataclass(frozen=True)
class TicketClosed:
    """The ticket was closed: the citizen is asked for a 1-5 rating."""

    ticket_id: int


InboxItem = LibrarianAnswer | TicketClosed


@dataclass(frozen=True)
class LibrarianReply:
    """What became of a librarian's reply in the group: stored for delivery, or refused (the citizen
    withdrew the question or deleted their data: nobody is there to receive it)."""

    ticket: Ticket
    message: TicketMessage | None
    refused: str | None = None  # "withdrawn" or "forgotten"


def mentioned_ticket(text: str | None) -> int | None:
    """The ticket a bot message is about ("... вопрос #12 ..."), if it names one."""
    found = TICKET_MENTION.search(text or "")
    return int(found.group(1)) if found else None


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


@dataclass(frozen=True)
class QueueItem:
    """One open ticket as /queue shows it."""

    ticket: Ticket
    waited_minutes: int           # since the ticket was opened (see LibrarianDesk.waited_minutes)
    waiting_for_citizen: bool     # the last message is a librarian's: the citizen is to answer
    past_reminder: bool = False   # it waited longer than a reminder allows (see LibrarianDesk.past_reminder)
