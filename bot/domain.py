"""The plain types the core hands around: citizens, tickets and their messages, and the words stored for them.

No database here: bot.storage reads and writes these. Each StrEnum's values are the strings stored in the
database, so a member compares equal to its old bare string ("open" == TicketStatus.OPEN).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

FORGOTTEN = "[удалено по просьбе жителя]"  # what stays of a question after /forget


def utcnow() -> dt.datetime:
    """Now in UTC, without a time zone: how every moment is stored."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Channel(StrEnum):
    """Where a citizen writes from."""

    TELEGRAM = "telegram"
    CONSOLE = "console"
    FORGOTTEN = "forgotten"  # a citizen whose data was deleted: nobody writes from here


class TicketStatus(StrEnum):
    OPEN = "open"            # waiting for a librarian
    TAKEN = "taken"          # a librarian has it
    CLOSED = "closed"        # answered and closed (by a librarian, or by itself when idle)
    WITHDRAWN = "withdrawn"  # the citizen cancelled it or deleted their data


OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.TAKEN)


class TicketKind(StrEnum):
    """Why the ticket was opened."""

    UNMATCHED = "unmatched"      # the bot found no answer
    NOT_HELPFUL = "not-helpful"  # the citizen said the answer did not help
    STUCK = "stuck"              # stuck at a step of an answer
    DECLINED = "declined"        # none of the offered answers fit


class Direction(StrEnum):
    """Which way a ticket's message goes."""

    CITIZEN = "citizen"      # from the citizen to the librarians' group
    LIBRARIAN = "librarian"  # from a librarian to the citizen


class Action(StrEnum):
    """What the matcher decided to do with a question: answer it, offer a choice, or hand it to a librarian
    (the question log keeps it)."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    ESCALATE = "escalate"


class Notice(StrEnum):
    """A notice still to send to a ticket's citizen."""

    CLOSED = "closed"  # the ticket was closed: tell them and ask for a rating


class Awaiting(StrEnum):
    """What the bot asked a citizen for and waits for."""

    TOWN = "town"  # after /where without a town


@dataclass(frozen=True)
class Citizen:
    id: int
    channel: Channel
    external_id: str
    language: str
    first_name: str
    blocked: bool = False
    awaiting: Awaiting | None = None  # what the bot asked this citizen for and still waits for


@dataclass(frozen=True)
class Ticket:
    id: int
    citizen_id: int
    status: TicketStatus
    kind: TicketKind
    lang: str
    question: str
    entry_id: str | None
    step: int | None
    candidates: list[dict]
    created_at: dt.datetime
    taken_by: str | None
    taken_at: dt.datetime | None = None
    first_reply_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    rating: int | None = None
    card_message_id: int | None = None
    citizen_blocked: bool = False
    notice: Notice | None = None
    closed_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class TicketMessage:
    id: int
    ticket_id: int
    direction: Direction
    text: str
    media: str | None
    source_chat_id: int | None
    source_message_id: int | None
    author: str
    created_at: dt.datetime
    delivered: bool
    attempts: int
    group_message_id: int | None
    in_reply_to: int | None = None
    entry_id: str | None = None  # a librarian's answer with a knowledge-base entry: the citizen gets the entry


@dataclass(frozen=True)
class Draft:
    id: int
    ticket_id: int
    lang: str
    question: str
    answer: str
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True)
class SuggestedVariant:
    """A citizen's (masked) question a librarian answered with an entry: a wording the entry may learn."""

    ticket_id: int
    entry_id: str
    lang: str
    question: str
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Admission:
    """A new update: how many the chat sent in the last minute, and for a citizen, who and what is open."""

    seen: int
    citizen: Citizen | None
    open_tickets: list[Ticket]


@dataclass(frozen=True)
class TakeResult:
    ticket: Ticket | None
    taken: bool  # True: this librarian has it now; False: someone else has it (ticket.taken_by) or it is closed


@dataclass(frozen=True)
class ReleaseResult:
    """Release: the ticket back in the queue, or why not (ticket None: no such ticket; otherwise its state
    says whether someone else has it, nobody has it, or it is closed)."""

    ticket: Ticket | None
    released: bool


@dataclass(frozen=True)
class Forgotten:
    """What /forget did to a citizen's tickets."""

    tickets: list[int]   # every ticket of theirs, now anonymised
    was_open: list[int]  # those that were open (withdrawn now): their cards are to be redrawn


@dataclass(frozen=True)
class StatsFigures:
    """The raw figures `egov-bot stats` is made of, since a given moment."""

    outcomes: dict[Outcome, int]  # questions per matcher outcome
    feedback: dict[bool, int]     # helpful (True) / not helpful (False) -> how many
    open_tickets: int             # open now, whenever they were opened
    waits: list[float]            # seconds from a ticket to its first librarian reply
    unmatched: list[str]          # questions the bot escalated or asked to clarify


# --- reminders and the out-of-hours digest (bot/reminders.py) -----------------------------------------------


class ReminderKind(StrEnum):
    """What the librarians' group is reminded of."""

    TAKE = "take"      # an open ticket nobody took (or answered) for TAKE_REMINDER_MINUTES working minutes
    REPLY = "reply"    # a taken ticket without a librarian's reply for REPLY_REMINDER_MINUTES
    DIGEST = "digest"  # the ticket arrived outside working hours: listed once when the hours begin


@dataclass(frozen=True)
class ReminderState:
    """A reminder (or a ticket's place in a digest) already stored: sent or given up (done), or still due."""

    key: str
    kind: ReminderKind
    done: bool
    lease_until: dt.datetime | None  # claimed by an instance (or to be retried) until then
    attempts: int = 0
    batch: str | None = None  # a digest item: the digest it belongs to


@dataclass(frozen=True)
class Waiting:
    """An open ticket whose card is in the group, with the reminders stored for it (the reminder pass's view)."""

    ticket: Ticket
    librarian_id: int | None  # the Telegram id of the librarian who took it
    reminders: dict[ReminderKind, ReminderState]


@dataclass(frozen=True)
class Reminder:
    """A reminder for the group, as the front end shows it (a reply to the ticket's card)."""

    kind: ReminderKind
    ticket: Ticket
    minutes: int              # working minutes it has waited
    librarian_id: int | None = None


@dataclass(frozen=True)
class Digest:
    """The tickets that arrived outside working hours, oldest first, for the start of the hours."""

    tickets: tuple[Ticket, ...]
    opens_at: dt.datetime


@dataclass(frozen=True)
class TicketTimes:
    """When a ticket arrived, got its first librarian reply and was closed (for `egov-bot stats`)."""

    created_at: dt.datetime
    first_reply_at: dt.datetime | None
    closed_at: dt.datetime | None
