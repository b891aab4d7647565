"""HelpDesk: what the bot does with a message, for every front end (console, Telegram, tests).

It never imports telegram and returns plain results; front ends render them with the locale texts.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from typing import Callable

import yaml

from bot import locales, places, privacy, suggested
from bot import text as textnorm
from bot.delivery import Outbox, Sender
from bot.desk import LibrarianDesk
from bot.editors import EditorDesk
from bot.notices import NoticeDesk
from bot.knowledge import Entry, KnowledgeBase, KnowledgeError, Problem
from bot.knowledge.indexed import Knowledge, Reloaded
from bot.matching import Decision, group_similar
from bot.places import AccessPoint
from bot.reminders import ReminderPass, Timers
from bot.workhours import WorkingTime
from bot.results import (Answer, Clarify, Escalated, FollowUp, InboxItem, LibrarianAnswer, LibrarianReply,  # noqa: F401
                         Rated, Reply, SmallTalk, Stats, TicketClosed, mentioned_ticket)
from bot.smalltalk import SmallTalkWords
from bot.domain import (FORGOTTEN, Admission, Awaiting, Citizen, Direction, Draft, Action, TakeResult, Ticket, TicketStatus,
                        utcnow)
from bot.storage import Storage

MAX_OPEN_TICKETS = 3  # open questions per citizen; more join the newest one
# A citizen writing this soon after a librarian's message is talking to the librarian: it goes to the ticket.
CONVERSATION_WINDOW = dt.timedelta(minutes=10)
RATING_WINDOW = dt.timedelta(days=7)  # a bare 1-5 rates a ticket closed this recently
UPDATES_KEPT = dt.timedelta(days=2)  # how long a handled update is remembered (duplicates come sooner)


class HelpDesk(LibrarianDesk, EditorDesk, NoticeDesk):
    def __init__(self, knowledge: Knowledge, store: Storage, *, hours=None, timers: Timers | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        self.knowledge = knowledge
        self.store = store
        self.hours = hours  # bot.config.LibrarianHours, or None: always open
        self.clock = clock
        self.small_talk = SmallTalkWords()
        self.outbox = Outbox(store, lambda: self.knowledge.kb, suggest=self.suggestions, notices=self.notices_for)
        self.reminders = ReminderPass(store, timers or Timers.off(), self.working_time, lambda: self.clock())

    def working_time(self, hours=None) -> WorkingTime:
        """The librarians' hours (these, else the desk's) less the holidays of the knowledge base serving now."""
        return WorkingTime.of(hours or self.hours, (holiday.date for holiday in self.knowledge.kb.holidays))

    # --- the knowledge base ---------------------------------------------------------------------

    def reload(self, directory: Path | str | None = None) -> list[Problem]:
        """Load the knowledge base again; on errors keep serving the last good one and return them."""
        return self.reload_report(directory).errors

    def reload_report(self, directory: Path | str | None = None) -> Reloaded:
        """Load the knowledge base and access points again. What `kb lint` rejects (errors) is refused and the
        last good one keeps serving; otherwise the new one serves at once, and the removed entries are named."""
        old = self.knowledge
        try:
            knowledge = Knowledge.load(directory or old.kb.directory)
        except KnowledgeError as error:
            return Reloaded([p for p in error.problems if p.severity == "error"], len(old.kb.entries))
        errors = [p for p in knowledge.problems() if p.severity == "error"]
        if errors:
            return Reloaded(errors, len(old.kb.entries))
        self.knowledge = knowledge
        removed = sorted({e.id for e in old.kb.entries} - {e.id for e in knowledge.kb.entries})
        return Reloaded([], len(knowledge.kb.entries), removed)

    # --- library access points ------------------------------------------------------------------

    def places_in(self, town: str) -> list[AccessPoint]:
        return places.find_town(self.knowledge.points, town)

    def places_near(self, latitude: float, longitude: float) -> list[places.Nearby]:
        """The nearest access points within NEAR_KM; empty when every known one is farther."""
        return [n for n in places.nearest(self.knowledge.points, latitude, longitude, limit=3)
                if n.distance_km <= places.NEAR_KM]

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base serving now (the menu's categories and entries)."""
        return self.knowledge.kb

    def entry(self, entry_id: str) -> Entry | None:
        return self.knowledge.kb.entry(entry_id)

    def answer_language(self, question: str, ui_lang: str) -> str:
        """The language to show an entry in for this question: the question's own; with no question, the
        interface language's content language."""
        return self.knowledge.matcher.match(question).lang if question else locales.content_lang(ui_lang)

    # --- citizens -------------------------------------------------------------------------------

    async def _conversation(self, open_tickets: list[Ticket], replying_to: int | None) -> Ticket | None:
        """The open ticket the citizen is talking to a librarian on, if any: their message replies to one of
        the bot's messages about that ticket (they all name it, "#12"), or comes within CONVERSATION_WINDOW
        of a librarian's last message on it. Such a message goes to the ticket even if the bot could answer."""
        if not open_tickets:
            return None
        by_id = {ticket.id: ticket for ticket in open_tickets}
        if replying_to in by_id:
            return by_id[replying_to]
        last = await self.store.tickets.last_librarian_message_at(list(by_id))
        now = utcnow()
        recent = [(moment, ticket_id) for ticket_id, moment in last.items() if now - moment < CONVERSATION_WINDOW]
        return by_id[max(recent)[1]] if recent else None

    def language(self, question: str, citizen: Citizen, decision: Decision | None = None) -> str:
        """The reply's language: the question's own when it shows one, else the citizen's interface language
        (read off the question's decision when there is one, else from the question)."""
        lang, clear = (decision.lang, decision.lang_stated) if decision else self.knowledge.matcher.language(question)
        return lang if clear or citizen.language not in ("ru", "kk") else citizen.language

    async def ask(self, citizen: Citizen, question: str, *, open_tickets: list[Ticket] | None = None,
                  replying_to: int | None = None) -> Reply:
        """Answer a question, offer a choice, escalate it, or add it to the citizen's open ticket.

        open_tickets: the citizen's open tickets when the caller has just read them.
        replying_to: the ticket named by the bot message this one replies to (see mentioned_ticket).
        While a ticket is open, what the bot can answer is answered (the reply names the pending ticket);
        only what it cannot answer, or what is said to the librarian (see _conversation), joins the ticket."""
        question = question.strip()
        masked = privacy.mask(question)  # what is stored and shown to librarians
        if open_tickets is None:
            open_tickets = await self.store.tickets.queue_of(citizen.id)
        talking = await self._conversation(open_tickets, replying_to) if question else None
        if talking is not None:
            return await self._follow_up(talking, citizen, masked, self.language(question, citizen))
        ui_lang = citizen.language if citizen.language in ("ru", "kk") else "ru"
        talk = self.small_talk.kind(question)
        if talk == "digits":
            rating = int(question) if len(question) == 1 else 0
            ticket = await self.store.tickets.awaiting_rating(citizen.id, utcnow() - RATING_WINDOW) if 1 <= rating <= 5 else None
            if ticket is not None and await self.store.tickets.rate(ticket.id, citizen.id, rating):
                return Rated(ticket.id, rating, ticket.lang)
            return SmallTalk("digits", ui_lang)
        decision = self.knowledge.matcher.match(question)
        unreadable = (talk in (None, "no-words") and decision.reason == "no-words"
                      and bool(textnorm.clean(question).strip()))
        if open_tickets and unreadable:  # words the bot cannot read (another script): the librarian may
            return await self._follow_up(open_tickets[-1], citizen, masked, ui_lang)
        if talk is not None or decision.reason == "no-words":
            lang = "kk" if textnorm.has_kazakh_letters(question) else self.small_talk.language(question) or ui_lang
            return SmallTalk(talk or "no-words", lang if lang in ("ru", "kk") else ui_lang)
        lang = self.language(question, citizen, decision)
        top = decision.candidates[0].score if decision.candidates else 0.0
        await self.store.insights.log_question(citizen.id, masked, lang, decision.action, decision.entry_id, top)
        kb = self.knowledge.kb
        pending = open_tickets[-1].id if open_tickets else None
        if decision.action == "answer":
            entry = kb.entry(decision.entry_id)
            if entry is not None:
                return Answer(entry, lang, decision, question, pending, self.notices_for(entry))
        if decision.action == "clarify":
            options = tuple(e for e in (kb.entry(c.id) for c in decision.candidates) if e is not None)
            if options:
                return Clarify(options, lang, decision, question, pending)
        if open_tickets:  # the bot cannot answer it: the librarians on the open ticket will
            return await self._follow_up(open_tickets[-1], citizen, masked, lang)
        return await self.escalate(citizen, masked, lang, candidates=scores(decision))

    async def _follow_up(self, ticket: Ticket, citizen: Citizen, masked: str, lang: str) -> FollowUp:
        await self.store.tickets.add_message(ticket.id, Direction.CITIZEN, masked, author=citizen.first_name)
        return FollowUp(ticket, lang)

    async def escalate(self, citizen: Citizen, question: str, lang: str, *, kind: str = "unmatched",
                       entry_id: str | None = None, step: int | None = None,
                       candidates: list[dict] | None = None) -> Escalated:
        """Open a ticket for the librarians (its card is posted by the delivery job).

        The same request twice (a double tap on a button) gives the ticket already open.
        """
        open_tickets = await self.store.tickets.queue_of(citizen.id)
        for ticket in open_tickets:
            if (ticket.question, ticket.kind, ticket.entry_id, ticket.step) == (privacy.mask(question), kind, entry_id, step):
                return Escalated(ticket, ticket.lang, None, new=False)
        if len(open_tickets) >= MAX_OPEN_TICKETS:  # enough open questions: this one joins the newest
            latest = open_tickets[-1]
            await self.store.tickets.add_message(latest.id, Direction.CITIZEN, privacy.mask(question), author=citizen.first_name)
            return Escalated(latest, latest.lang, None, new=False)
        ticket = await self.store.tickets.open(citizen.id, privacy.mask(question), lang, kind=kind,
                                              entry_id=entry_id, step=step, candidates=candidates)
        now, calendar = self.clock(), self.working_time()
        opens_at = None if calendar.is_working(now) else calendar.next_opening(now)  # holidays skipped
        return Escalated(ticket, lang, opens_at)

    async def decline(self, citizen: Citizen, question: str, lang: str, *,
                      decision: Decision | None = None) -> Escalated:
        """None of the offered entries fits: a ticket with what the matcher considered. Without the decision
        the question is matched again and its language is the matcher's ("—" and `lang` when it is lost)."""
        question = question or "—"
        if decision is None:
            decision = self.knowledge.matcher.match(question)
            lang = decision.lang if question != "—" else lang
        return await self.escalate(citizen, question, lang, kind="declined", candidates=scores(decision))

    async def not_helpful(self, citizen: Citizen, entry_id: str, question: str, ui_lang: str) -> Escalated:
        """The entry's answer did not help: a ticket with the citizen's question (or the entry's title)."""
        entry = self.entry(entry_id)
        question = question or (entry.title["ru"] if entry else "—")
        return await self.escalate(citizen, question, locales.content_lang(ui_lang), kind="not-helpful",
                                   entry_id=entry_id)

    async def stuck(self, citizen: Citizen, entry_id: str, step: int, ui_lang: str) -> Escalated | None:
        """The citizen is stuck at a step of an entry's walkthrough: a ticket naming the step. None when the
        entry has no such step (an old button)."""
        entry = self.entry(entry_id)
        if entry is None or not entry.steps or not 1 <= step <= len(entry.steps["ru"]):
            return None
        lang = locales.content_lang(ui_lang)
        question = f"{entry.title[lang]}: {entry.steps[lang][step - 1]}"
        return await self.escalate(citizen, question, lang, kind="stuck", entry_id=entry.id, step=step)

    async def pass_media(self, citizen: Citizen, media: str, caption: str, source_chat_id: int,
                         source_message_id: int) -> FollowUp | None:
        """A photo, document or voice for the citizen's open ticket; None when there is none."""
        open_tickets = await self.store.tickets.queue_of(citizen.id)
        if not open_tickets:
            return None
        ticket = open_tickets[-1]
        await self.store.tickets.add_message(ticket.id, Direction.CITIZEN, privacy.mask(caption), author=citizen.first_name, media=media,
                                     source_chat_id=source_chat_id, source_message_id=source_message_id)
        return FollowUp(ticket, ticket.lang)

    async def citizen(self, channel: str, external_id: str, *, language: str = "ru", first_name: str = "") -> Citizen:
        """The citizen writing on this channel (created on first contact)."""
        return await self.store.citizens.get(channel, external_id, language=language, first_name=first_name)

    async def open_tickets_of(self, citizen: Citizen) -> list[Ticket]:
        return await self.store.tickets.queue_of(citizen.id)

    async def set_language(self, citizen: Citizen, language: str) -> None:
        await self.store.citizens.set_language(citizen.id, language)

    async def inbox(self, citizen: Citizen) -> list["InboxItem"]:
        """What a front end that delivers by itself (the console) has to show this citizen now: librarians'
        answers, then notices of closed tickets. Each is marked delivered as it is handed over."""
        items: list[InboxItem] = []
        for message in await self.store.outbox.answers_for(citizen.id):
            await self.store.outbox.mark_delivered(message.id)
            items.append(LibrarianAnswer(message.ticket_id, message.text, message.media))
        for ticket in await self.store.outbox.notices_to_send(citizen.channel, citizen.id):
            if await self.store.outbox.claim_notice(ticket.id) is not None:
                items.append(TicketClosed(ticket.id))
        return items

    async def privacy_warning(self, citizen: Citizen, text: str) -> bool:
        """True when the text carries personal numbers and the citizen has not been told yet."""
        return bool(privacy.contains_sensitive(text)) and await self.store.citizens.warn_private_once(citizen.id)

    async def forget(self, citizen: Citizen) -> list[int]:
        """Delete the citizen's data (tickets kept anonymised for statistics); the ids of the tickets that
        were open, whose cards now say so. The interface language stays."""
        return (await self.store.citizens.forget(citizen.id)).was_open

    async def await_town(self, citizen: Citizen) -> None:
        """/where without a town: the next message may be one."""
        await self.store.citizens.set_awaiting(citizen.id, Awaiting.TOWN)

    async def awaited(self, citizen: Citizen) -> str | None:
        """What the bot was waiting for from this citizen ("town"), now answered: cleared."""
        if citizen.awaiting is not None:
            await self.store.citizens.set_awaiting(citizen.id, None)
        return citizen.awaiting

    async def close_idle(self, hours: float) -> list[Ticket]:
        """Close the tickets a librarian answered that have been silent for `hours` (the citizen is told
        and asked for a rating, as when a librarian closes one)."""
        closed = []
        for ticket in await self.store.tickets.idle_answered(utcnow() - dt.timedelta(hours=hours)):
            done = await self.store.tickets.close(ticket.id, "auto")
            if done is not None:
                closed.append(done)
        return closed

    async def feedback(self, citizen: Citizen, entry_id: str, helpful: bool) -> None:
        await self.store.insights.add_feedback(citizen.id, entry_id, helpful)

    async def withdraw(self, citizen: Citizen, ticket_id: int) -> Ticket | None:
        """The citizen cancels their own open ticket."""
        ticket = await self.store.tickets.get(ticket_id)
        if ticket is None or ticket.citizen_id != citizen.id or not ticket.is_open:
            return None
        return await self.store.tickets.close(ticket_id, citizen.first_name or "citizen", status=TicketStatus.WITHDRAWN)

    async def rate(self, citizen: Citizen, ticket_id: int, rating: int) -> bool:
        if not 1 <= rating <= 5:
            return False
        return await self.store.tickets.rate(ticket_id, citizen.id, rating)

    async def refresh_card(self, sender: Sender, ticket_id: int) -> None:
        """Redraw a ticket's card in the librarians' group (after a change the card shows)."""
        await self.outbox.refresh(sender, ticket_id)

    # --- librarians -----------------------------------------------------------------------------

    async def take(self, ticket_id: int, librarian_id: int, librarian: str) -> TakeResult:
        return await self.store.tickets.take(ticket_id, librarian_id, librarian)

    async def close(self, ticket_id: int, librarian: str) -> Ticket | None:
        return await self.store.tickets.close(ticket_id, librarian)

    async def reply(self, reply_to_group_message: int, text: str, librarian: str, group_message_id: int, *,
                    media: str | None = None, source_chat_id: int | None = None,
                    source_message_id: int | None = None,
                    ticket_number: int | None = None, canned: str | None = None) -> LibrarianReply | None:
        """A librarian answered a ticket's message in the group: store the answer for delivery.

        `ticket_number` is what the replied-to message says ("#12 · ..."): used when the database does not
        know that group message (the bot was stopped between posting it and writing down its id).
        """
        ticket = await self.store.tickets.for_group_message(reply_to_group_message)
        if ticket is None and ticket_number is not None:
            ticket = await self.store.tickets.get(ticket_number)
        if ticket is None:
            return None
        if ticket.question == FORGOTTEN:
            return LibrarianReply(ticket, None, "forgotten")
        if ticket.status == "withdrawn":
            return LibrarianReply(ticket, None, "withdrawn")
        message = await self.store.tickets.add_message(
            ticket.id, Direction.LIBRARIAN, text, author=librarian, media=media, source_chat_id=source_chat_id,
            source_message_id=source_message_id, group_message_id=group_message_id, in_reply_to=reply_to_group_message,
            canned=canned,
        )
        return LibrarianReply(ticket, message)

    async def ticket_of_group_message(self, group_message_id: int) -> Ticket | None:
        """The ticket a message in the librarians' group belongs to (a card, any piece of it, a relayed message)."""
        return await self.store.tickets.for_group_message(group_message_id)

    async def queue(self) -> list[Ticket]:
        return await self.store.tickets.queue()

    async def draft(self, ticket_id: int, librarian: str) -> Draft | None:
        return await self.store.insights.add_draft(ticket_id, librarian)

    def suggestions(self, ticket: Ticket) -> tuple[Entry, ...]:
        """The entries that best fit the ticket's question, for its card (bot.suggested)."""
        return suggested.suggestions(self.knowledge, ticket)

    async def answer_with(self, ticket_id: int, entry_id: str, librarian: str, librarian_id: int) -> suggested.EntryAnswer:
        """A librarian answers the ticket with a knowledge-base entry (bot.suggested.answer_with)."""
        return await suggested.answer_with(self.store, self.knowledge, ticket_id, entry_id, librarian, librarian_id)

    # --- delivery and the updates of a front end that receives them (Telegram) ------------------

    async def deliver(self, sender: Sender) -> int:
        """One delivery pass through `sender` (bot.delivery), then reminders (bot.reminders); how many were sent."""
        return await self.outbox.deliver(sender) + await self.reminders.deliver(sender)

    async def admit(self, update_id: int, chat_id: int | None = None, *, take_over_after: float | None = None,
                    payload: str | None = None, counted: bool = True) -> int | None:
        """Record an update; None for a duplicate, else how many this chat sent in the last minute."""
        return await self.store.updates.admit(update_id, chat_id, take_over_after=take_over_after, payload=payload,
                                      counted=counted)

    async def intake(self, update_id: int, chat_id: int, channel: str, external_id: str, *, language: str = "ru",
                     first_name: str = "", take_over_after: float | None = None, payload: str | None = None,
                     counted: bool = True) -> Admission | None:
        """admit() and the citizen with their open tickets, in one round trip."""
        return await self.store.updates.intake(update_id, chat_id, channel, external_id, language=language,
                                       first_name=first_name, take_over_after=take_over_after, payload=payload,
                                       counted=counted)

    async def finish_update(self, update_id: int) -> None:
        await self.store.updates.finish(update_id)

    async def unfinished_updates(self, silent_for: float = 0) -> list[tuple[int, str]]:
        """(update id, payload) of updates other processes recorded and never finished handling."""
        return await self.store.updates.unfinished(silent_for)

    async def heartbeat(self) -> None:
        """Tell the other instances this one is alive."""
        await self.store.updates.heartbeat()

    async def purge(self, query_log_days: int) -> int:
        """Delete question-log rows older than `query_log_days` (how many) and long-handled updates."""
        removed = await self.store.insights.purge_questions(utcnow() - dt.timedelta(days=query_log_days))
        await self.store.updates.purge(utcnow() - UPDATES_KEPT)
        return removed

    async def shutdown(self) -> None:
        """Close the database connections."""
        await self.store.dispose()


def scores(decision: Decision) -> list[dict]:
    return [{"id": c.id, "score": round(c.score, 3)} for c in decision.candidates]
