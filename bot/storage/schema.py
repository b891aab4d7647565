"""The database tables as SQLAlchemy rows, and how a row becomes a plain domain object (bot.domain).

The columns hold the StrEnum values of bot.domain as plain strings: the rows never change with the enums.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.domain import (Awaiting, Channel, Citizen, Direction, Draft, Notice, Ticket, TicketKind, TicketMessage,
                        TicketStatus, utcnow)

AWAIT_WINDOW = dt.timedelta(minutes=10)  # how long the bot waits for what it asked for (a town after /where)


class Base(DeclarativeBase):
    pass


class CitizenRow(Base):
    __tablename__ = "citizens"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))          # "telegram", "console"
    external_id: Mapped[str] = mapped_column(String(64))      # the chat id on that channel
    language: Mapped[str] = mapped_column(String(2), default="ru")
    first_name: Mapped[str] = mapped_column(String(128), default="")
    blocked: Mapped[bool] = mapped_column(default=False)      # the citizen blocked the bot
    warned_private: Mapped[bool] = mapped_column(default=False)  # told once not to send ИИН, card numbers ...
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    awaiting: Mapped[str | None] = mapped_column(String(16), default=None)  # what the bot asked for: "town" after /where
    awaiting_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN)  # open, taken, closed, withdrawn
    kind: Mapped[str] = mapped_column(String(16), default=TicketKind.UNMATCHED)  # unmatched, not-helpful, stuck, declined
    lang: Mapped[str] = mapped_column(String(2), default="ru")
    question: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[str | None] = mapped_column(String(80), default=None)
    step: Mapped[int | None] = mapped_column(default=None)
    candidates: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{"id", "score"}] the matcher considered
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    taken_by: Mapped[str | None] = mapped_column(String(128), default=None)
    taken_by_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # Telegram ids exceed 32 bits
    taken_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    first_reply_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(128), default=None)
    rating: Mapped[int | None] = mapped_column(default=None)
    card_message_id: Mapped[int | None] = mapped_column(default=None, index=True)
    card_lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)  # an instance is posting the card
    citizen_blocked: Mapped[bool] = mapped_column(default=False)
    notice: Mapped[str | None] = mapped_column(String(32), default=None)  # a citizen notice still to send: "closed"


class TicketMessageRow(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # "citizen" (to the group) or "librarian" (to the citizen)
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[str | None] = mapped_column(String(16), default=None)  # photo, document, voice ...: copied as is
    source_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # where the original message is
    source_message_id: Mapped[int | None] = mapped_column(default=None)
    author: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered: Mapped[bool] = mapped_column(default=False)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    failed: Mapped[bool] = mapped_column(default=False)  # given up: the citizen blocked the bot
    group_message_id: Mapped[int | None] = mapped_column(default=None, index=True)  # its message in the group
    in_reply_to: Mapped[int | None] = mapped_column(default=None)  # a librarian's reply: the group message it answered
    entry_id: Mapped[str | None] = mapped_column(String(80), default=None)  # an answer with a knowledge-base entry


class GroupMessageRow(Base):
    """Every message the bot posted in the librarians' group for a ticket: a card or a relayed message split
    into several Telegram messages has one row per piece, so a reply to any piece reaches the ticket."""

    __tablename__ = "group_messages"

    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    is_card: Mapped[bool] = mapped_column(default=False)  # the card or its continuation


class CannedUseRow(Base):
    """A canned reply a librarian sent (`/r ID`): which one, on which ticket, by whom. Kept when the citizen's
    messages are deleted (/forget): it holds nothing of theirs, and `stats` counts the most used replies."""

    __tablename__ = "canned_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    reply_id: Mapped[str] = mapped_column(String(80))  # the id in knowledge/replies.yaml
    message_id: Mapped[int | None] = mapped_column(default=None)  # the ticket message it became (gone after /forget)
    librarian: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    entry_id: Mapped[str] = mapped_column(String(80))
    helpful: Mapped[bool] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    lang: Mapped[str] = mapped_column(String(2))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SuggestedVariantRow(Base):
    """A ticket answered with a knowledge-base entry: the citizen's masked question, a wording for the entry.
    One row per ticket and entry: the same entry twice on one ticket (a double tap) is sent once."""

    __tablename__ = "suggested_variants"
    __table_args__ = (UniqueConstraint("ticket_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    entry_id: Mapped[str] = mapped_column(String(80))
    lang: Mapped[str] = mapped_column(String(2))
    question: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QuestionRow(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), default=None)
    question: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    decision: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(80), default=None)
    score: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ProcessedUpdateRow(Base):
    """Telegram update ids already handled: a webhook retry or a second instance must not act twice.

    The citizen's chat is kept too (for two days), so that flood control counts a citizen's messages
    over every instance. The update itself is kept until its handling finishes: an update cut short by a
    kill is handled again by the restarted process (Telegram will not send it again: getUpdates confirmed
    it as soon as it arrived)."""

    __tablename__ = "processed_updates"
    __table_args__ = (Index("ix_processed_updates_chat_time", "chat_id", "created_at"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    owner: Mapped[str | None] = mapped_column(String(32), default=None)  # the instance handling it
    finished: Mapped[bool] = mapped_column(default=False)  # its handling ran to the end
    payload: Mapped[str | None] = mapped_column(Text, default=None)  # the update as received, until finished
    counted: Mapped[bool] = mapped_column(default=True, server_default=true())  # flood control counts it (buttons: no)


class InstanceRow(Base):
    """Running bot processes: each writes down every few seconds that it is alive. The unfinished updates of
    one that fell silent are taken over by the others."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReminderRow(Base):
    """Reminders in the librarians' group and the out-of-hours digests, as the delivery pass claims and sends
    them: the key makes each one once ("take:12", "reply:12"; "digest@<opening>" is a digest message and
    "digest:12" a ticket's line in it). A row is inserted by the instance that sends it, with a lease."""

    __tablename__ = "reminders"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # take, reply, digest
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None, index=True)
    batch: Mapped[str | None] = mapped_column(String(64), default=None, index=True)  # a digest item: its digest's key
    done: Mapped[bool] = mapped_column(default=False)  # sent, or given up
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)  # an instance sends it (or retries) then
    attempts: Mapped[int] = mapped_column(default=0)
    message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)  # the reminder in the group
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)


def as_ticket(row: TicketRow) -> Ticket:
    return Ticket(
        row.id, row.citizen_id, TicketStatus(row.status), TicketKind(row.kind), row.lang, row.question, row.entry_id,
        row.step, json.loads(row.candidates or "[]"), row.created_at, row.taken_by, row.taken_at, row.first_reply_at,
        row.closed_at, row.rating, row.card_message_id, row.citizen_blocked,
        Notice(row.notice) if row.notice else None, row.closed_by,
    )


def as_citizen(row: CitizenRow) -> Citizen:
    waiting = row.awaiting is not None and row.awaiting_at is not None and utcnow() - row.awaiting_at < AWAIT_WINDOW
    return Citizen(row.id, Channel(row.channel), row.external_id, row.language, row.first_name, row.blocked,
                   Awaiting(row.awaiting) if waiting else None)


def as_message(row: TicketMessageRow) -> TicketMessage:
    return TicketMessage(
        row.id, row.ticket_id, Direction(row.direction), row.text, row.media, row.source_chat_id,
        row.source_message_id, row.author, row.created_at, row.delivered, row.attempts, row.group_message_id,
        row.in_reply_to, row.entry_id,
    )


def as_draft(row: DraftRow) -> Draft:
    return Draft(row.id, row.ticket_id, row.lang, row.question, row.answer, row.created_by, row.created_at)


class GapIgnoreRow(Base):
    """A group of questions an editor marked as not for the knowledge base (`egov-bot kb gaps --ignore KEY`):
    its key and the stems of its representative wording, so that a similar group later stays out too."""

    __tablename__ = "gap_ignores"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    stems: Mapped[str] = mapped_column(Text)
    example: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
