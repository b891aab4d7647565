"""Delivery: cards to the librarians' group, messages both ways, notices to citizens.

Everything to deliver is in the database first; this job sends it and marks it delivered. Network
errors, HTTP 5xx and 429 (after retry_after) are retried with backoff; 403 means the citizen blocked the
bot: the ticket is marked and the librarians are told. Nothing a librarian writes is lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from telegram import Bot, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.helpdesk import HelpDesk
from bot import locales
from bot.telegram_ui import render
from bot.telegram_ui.context import BotContext
from bot.telegram_ui.limiter import retry_seconds, without_retries
from bot.domain import Ticket, TicketMessage

log = logging.getLogger(__name__)
MAX_BACKOFF = 300.0
MAX_ATTEMPTS = 8  # deliveries of one message before it is given up (with a note in the librarians' group)
CAPTION_LIMIT = 1024  # Telegram's limit for a caption


def backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 2.0 ** min(attempts, 10))


async def deliver_all(bot: Bot, helpdesk: HelpDesk, group_id: int, zone=None) -> int:
    """One pass over everything pending; returns how many deliveries succeeded. Its requests are not
    retried by the rate limiter: a failure is written down and retried on the pass's own schedule."""
    with without_retries():
        return await _deliver_pending(bot, helpdesk, group_id, zone)


async def _deliver_pending(bot: Bot, helpdesk: HelpDesk, group_id: int, zone=None) -> int:
    """Cards, then messages both ways, then notices. Each item is on its own: one that fails is logged with
    its id and retried with backoff (given up after MAX_ATTEMPTS, with a note in the group), and never
    keeps the others from being delivered in the same pass."""
    done = 0
    for ticket in await helpdesk.store.outbox.cards_to_post():
        if not await helpdesk.store.outbox.claim_card(ticket.id):
            continue  # another instance is posting it
        try:
            done += await _post_card(bot, helpdesk, group_id, ticket, zone)
        except (RetryAfter, NetworkError) as error:
            log.warning("card for ticket #%s not posted yet: %s", ticket.id, error)
            await helpdesk.store.outbox.release_card(ticket.id)
            return done  # the group is unreachable now: try everything again on the next pass
        except Exception:  # noqa: BLE001 - its lease runs out and a later pass tries again; the others go on
            log.warning("card for ticket #%s not posted; retried when its lease ends", ticket.id, exc_info=True)
    answered: dict[int, tuple] = {}  # cards to redraw once the citizens have their answers
    for message in await helpdesk.store.outbox.pending_messages():
        try:
            ticket = await helpdesk.store.tickets.get(message.ticket_id)
            citizen = await helpdesk.store.citizens.by_id(ticket.citizen_id) if ticket else None
            if message.direction == "citizen" and ticket is not None and ticket.card_message_id is None:
                continue  # its card comes first
            if not await helpdesk.store.outbox.claim_message(message.id):
                continue  # another instance is delivering it
            if ticket is None or citizen is None:
                raise LookupError(f"ticket #{message.ticket_id} or its citizen is gone")
            if message.direction == "librarian":
                await _to_citizen(bot, int(citizen.external_id), ticket, message, citizen.language)
                await helpdesk.store.outbox.mark_delivered(message.id)
                answered[ticket.id] = (ticket, (message.author, message.created_at))
            else:
                first, *rest = await _to_group(bot, group_id, ticket, message, citizen.first_name)
                await helpdesk.store.outbox.mark_delivered(message.id, first)
                await helpdesk.store.outbox.add_group_messages(ticket.id, [first, *rest])
            done += 1
        except RetryAfter as error:
            await helpdesk.store.outbox.retry_later(message.id, retry_seconds(error))
        except Forbidden as error:
            if message.direction == "librarian":
                for blocked in await helpdesk.store.citizens.mark_blocked(citizen.id):
                    await _tell_group(bot, group_id, render.t(locales.GROUP, "group_blocked", number=blocked.id))
                    await _refresh_card(bot, helpdesk, group_id, blocked, zone)
            else:
                await _failed(bot, helpdesk, group_id, message, error)
        except BadRequest as error:
            # A message Telegram will never accept as it is (the original was deleted, ...): send the text.
            await _failed(bot, helpdesk, group_id, message, error)
            if message.media and message.attempts >= 2:
                await helpdesk.store.outbox.drop_media(message.id)
        except Exception as error:  # noqa: BLE001 - network faults, bad rows, anything: this item only
            await _failed(bot, helpdesk, group_id, message, error)
    for ticket, last in answered.values():  # the group's rate limit may slow these: citizens come first
        await _refresh_card(bot, helpdesk, group_id, ticket, zone, answered=last)
    for ticket in await helpdesk.store.outbox.notices_to_send():
        notice = await helpdesk.store.outbox.claim_notice(ticket.id)
        if notice is None:
            continue  # another instance sent it
        try:
            citizen = await helpdesk.store.citizens.by_id(ticket.citizen_id)
            if citizen is not None and not citizen.blocked:
                await bot.send_message(int(citizen.external_id), render.t(citizen.language, "ticket_closed", number=ticket.id),
                                       reply_markup=render.rating_keyboard(ticket.id))
        except Forbidden:
            pass  # blocked: nobody to tell
        except (RetryAfter, NetworkError):
            await helpdesk.store.outbox.restore_notice(ticket.id, notice)
            break
        except Exception:  # noqa: BLE001 - a notice is a courtesy: this one is dropped, the others go on
            log.warning("closing notice of ticket #%s not sent", ticket.id, exc_info=True)
    return done


async def _post_card(bot: Bot, helpdesk: HelpDesk, group_id: int, ticket: Ticket, zone) -> int:
    citizen = await helpdesk.store.citizens.by_id(ticket.citizen_id)
    sent = await bot.send_message(
        group_id, render.card(ticket, citizen.first_name if citizen else "", helpdesk.library.kb, zone),
        parse_mode=ParseMode.HTML, reply_markup=render.card_keyboard(ticket),
    )
    await helpdesk.store.outbox.card_posted(ticket.id, sent.message_id)
    pieces = []
    for piece in render.card_continuation(ticket):
        try:
            more = await bot.send_message(group_id, piece, parse_mode=ParseMode.HTML,
                                          reply_parameters=ReplyParameters(sent.message_id, allow_sending_without_reply=True))
        except TelegramError as error:
            log.warning("the rest of ticket #%s's question not posted: %s", ticket.id, error)
            break
        pieces.append(more.message_id)
    await helpdesk.store.outbox.add_group_messages(ticket.id, pieces, is_card=True)
    return 1


async def _failed(bot: Bot, helpdesk: HelpDesk, group_id: int, message: TicketMessage, error: Exception) -> None:
    """One message could not be delivered: retry it later, or give up after MAX_ATTEMPTS and say so."""
    log.warning("message %s of ticket #%s not delivered (attempt %s): %r", message.id, message.ticket_id,
                message.attempts + 1, error)
    if message.attempts + 1 < MAX_ATTEMPTS:
        await helpdesk.store.outbox.retry_later(message.id, backoff(message.attempts))
        return
    await helpdesk.store.outbox.give_up(message.id)
    await _tell_group(bot, group_id, render.t(locales.GROUP, "delivery_gave_up", message=message.id,
                                              number=message.ticket_id, attempts=MAX_ATTEMPTS,
                                              error=type(error).__name__))


async def _send_long(bot: Bot, chat_id: int, text: str, reply: ReplyParameters | None = None) -> list[int]:
    """Send plain text escaped as HTML in as many messages as it takes; their ids."""
    sent_ids = []
    for piece in render.escaped_chunks(text):
        sent = await bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, reply_parameters=reply)
        sent_ids.append(sent.message_id)
    return sent_ids


async def _to_citizen(bot: Bot, chat_id: int, ticket: Ticket, message: TicketMessage, lang: str) -> None:
    """The librarian's answer: a photo or document goes once, as a copy whose caption carries the answer."""
    text = render.t(lang, "librarian_answer", number=ticket.id, text=message.text or "").rstrip()
    if message.media and message.source_chat_id and message.source_message_id:
        if len(text) <= CAPTION_LIMIT:
            await bot.copy_message(chat_id, message.source_chat_id, message.source_message_id, caption=text)
            return
        header = render.t(lang, "librarian_answer", number=ticket.id, text="").rstrip()
        await bot.copy_message(chat_id, message.source_chat_id, message.source_message_id, caption=header)
        await _send_long(bot, chat_id, message.text)
        return
    await _send_long(bot, chat_id, text)


def media_name(media: str) -> str:
    """"фото", "документ", "голосовое сообщение": the group's word for a kind of attachment."""
    key = f"media_{media}"
    return render.t(locales.GROUP, key if key in locales.keys(locales.GROUP) else "media_file")


async def _to_group(bot: Bot, group_id: int, ticket: Ticket, message: TicketMessage, name: str) -> list[int]:
    """Post a citizen's message in the group, as a reply to the ticket's card; its message ids there."""
    reply = ReplyParameters(ticket.card_message_id, allow_sending_without_reply=True) if ticket.card_message_id else None
    if message.media and message.source_chat_id and message.source_message_id:
        caption = render.t(locales.GROUP, "group_citizen_media", number=ticket.id, name=name or "—",
                           media=media_name(message.media))
        full = f"{caption}\n{message.text}" if message.text else caption
        copied = await bot.copy_message(group_id, message.source_chat_id, message.source_message_id,
                                        caption=full if len(full) <= CAPTION_LIMIT else caption, reply_parameters=reply)
        ids = [copied.message_id]
        if len(full) > CAPTION_LIMIT:  # a long caption follows the copy in full
            ids += await _send_long(bot, group_id, message.text, ReplyParameters(copied.message_id, allow_sending_without_reply=True))
        return ids
    text = render.t(locales.GROUP, "group_citizen_message", number=ticket.id, name=name or "—", text=message.text)
    return await _send_long(bot, group_id, text, reply)


async def _tell_group(bot: Bot, group_id: int, text: str) -> None:
    try:
        await bot.send_message(group_id, text)
    except TelegramError as error:
        log.warning("could not tell the librarians: %s", error)


async def _refresh_card(bot: Bot, helpdesk: HelpDesk, group_id: int, ticket: Ticket, zone=None, *,
                        answered: tuple | None = None) -> None:
    """Show the ticket's current state on its card (best effort: the database is the record)."""
    if ticket.card_message_id is None:
        return
    fresh = await helpdesk.store.tickets.get(ticket.id) or ticket
    citizen = await helpdesk.store.citizens.by_id(fresh.citizen_id)
    if answered is None:
        answered = await helpdesk.store.tickets.last_answer(fresh.id)
    try:
        await bot.edit_message_text(
            render.card(fresh, citizen.first_name if citizen else "", helpdesk.library.kb, zone, answered=answered),
            chat_id=group_id, message_id=fresh.card_message_id, parse_mode=ParseMode.HTML,
            reply_markup=render.card_keyboard(fresh, answered=answered is not None),
        )
    except TelegramError as error:
        if "not modified" not in str(error).lower():
            log.info("card of ticket #%s not updated: %s", fresh.id, error)



class Courier:
    """Runs delivery passes one at a time: every few seconds from the job queue, and soon after each event.

    `soon()` returns at once and the pass runs in the background: a handler never waits for Telegram's
    limits (20 messages a minute in a group), so a burst of new tickets does not slow anyone's answers.
    Asked again while a pass runs, one more pass follows it.
    """

    def __init__(self, deliver: Callable[[], Awaitable[None]]) -> None:
        self._deliver = deliver
        self._lock = asyncio.Lock()
        self._background: asyncio.Task | None = None
        self._again = False

    async def run(self) -> None:
        """One pass now (after the pass in progress, if any)."""
        async with self._lock:
            await self._deliver()

    def soon(self) -> None:
        if self._background is not None and not self._background.done():
            self._again = True
            return
        self._background = asyncio.get_running_loop().create_task(self._passes(), name="delivery soon")

    async def _passes(self) -> None:
        while True:
            self._again = False
            try:
                await self.run()
            except Exception:  # noqa: BLE001 - all of it is still in the database: the job tries again
                log.warning("delivery pass failed; the delivery job will retry", exc_info=True)
            if not self._again:
                return

    async def settled(self, timeout: float | None = None) -> None:
        """Wait for the passes asked for so far; after `timeout` seconds, cancel them (at shutdown)."""
        task = self._background
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            task.cancel()


async def refresh(context: BotContext, ticket_id: int) -> None:
    """Redraw a ticket's card in the librarians' group."""
    ticket = await context.helpdesk.store.tickets.get(ticket_id)
    if ticket:
        await _refresh_card(context.bot, context.helpdesk, context.settings.librarian_chat_id, ticket,
                            context.settings.hours.zone)
