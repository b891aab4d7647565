"""The Telegram side of delivery (bot.delivery): what a pass sends, as Bot API calls.

Telegram's errors become the core's: 429 -> RetryLater (after retry_after), 400 -> Refused, 403 -> Blocked,
network faults and HTTP 5xx -> Unreachable. The pass's requests are not retried by the rate limiter: a
failure is written down and retried on the pass's own schedule, kept in the database.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from telegram import Bot, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import locales
from bot.delivery import Blocked, Card, DeliveryError, Refused, RetryLater, Unreachable
from bot.knowledge import Entry, Notice
from bot.helpdesk import HelpDesk
from bot.telegram_ui import render
from bot.telegram_ui.limiter import retry_seconds, without_retries
from bot.domain import Citizen, Digest, Reminder, Ticket, TicketMessage

log = logging.getLogger(__name__)
CAPTION_LIMIT = 1024  # Telegram's limit for a caption


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Telegram's errors as the core's delivery errors."""
    try:
        yield
    except RetryAfter as error:
        raise RetryLater(type(error).__name__, retry_seconds(error), str(error)) from error
    except BadRequest as error:  # a NetworkError too: it comes first
        raise Refused(type(error).__name__, str(error)) from error
    except NetworkError as error:
        raise Unreachable(type(error).__name__, str(error)) from error
    except Forbidden as error:
        raise Blocked(type(error).__name__, str(error)) from error
    except TelegramError as error:
        raise DeliveryError(type(error).__name__, str(error)) from error


def _under(message_id: int | None) -> ReplyParameters | None:
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None


def media_name(media: str) -> str:
    """"фото", "документ", "голосовое сообщение": the group's word for a kind of attachment."""
    key = f"media_{media}"
    return render.t(locales.GROUP, key if key in locales.keys(locales.GROUP) else "media_file")


class TelegramSender:
    """bot.delivery.Sender over a Bot: cards and notes in the librarians' group, answers in private chats."""

    channel = "telegram"

    def __init__(self, bot: Bot, group_id: int, zone=None) -> None:
        self.bot = bot
        self.group_id = group_id
        self.zone = zone  # the librarians' time zone on the cards

    async def send_card(self, card: Card) -> int:
        with translated():
            sent = await self.bot.send_message(
                self.group_id, render.card(card.ticket, card.citizen_name, card.kb, self.zone),
                parse_mode=ParseMode.HTML,
                reply_markup=render.with_suggestions(render.card_keyboard(card.ticket), card.ticket, card.suggestions))
        return sent.message_id

    async def send_card_rest(self, ticket: Ticket, card_id: int) -> list[int]:
        pieces = []
        for piece in render.card_continuation(ticket):
            try:
                more = await self.bot.send_message(self.group_id, piece, parse_mode=ParseMode.HTML,
                                                   reply_parameters=_under(card_id))
            except TelegramError as error:
                log.warning("the rest of ticket #%s's question not posted: %s", ticket.id, error)
                break
            pieces.append(more.message_id)
        return pieces

    async def edit_card(self, card: Card, card_id: int) -> None:
        try:
            with translated():
                await self.bot.edit_message_text(
                    render.card(card.ticket, card.citizen_name, card.kb, self.zone, answered=card.answered,
                                answered_with=card.answered_with),
                    chat_id=self.group_id, message_id=card_id, parse_mode=ParseMode.HTML,
                    reply_markup=render.with_suggestions(render.card_keyboard(card.ticket, answered=card.answered is not None),
                                                         card.ticket, card.suggestions))
        except Refused as error:
            if "not modified" not in str(error).lower():
                raise

    async def _send_long(self, chat_id: int, text: str, reply: ReplyParameters | None = None) -> list[int]:
        """Send plain text escaped as HTML in as many messages as it takes; their ids."""
        sent_ids = []
        for piece in render.escaped_chunks(text):
            sent = await self.bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, reply_parameters=reply)
            sent_ids.append(sent.message_id)
        return sent_ids

    async def send_to_citizen(self, citizen: Citizen, ticket: Ticket, message: TicketMessage) -> None:
        """A photo or document goes once, as a copy whose caption carries the answer."""
        chat_id, lang = int(citizen.external_id), citizen.language
        text = render.t(lang, "librarian_answer", number=ticket.id, text=message.text or "").rstrip()
        with translated():
            if not (message.media and message.source_chat_id and message.source_message_id):
                await self._send_long(chat_id, text)
            elif len(text) <= CAPTION_LIMIT:
                await self.bot.copy_message(chat_id, message.source_chat_id, message.source_message_id, caption=text)
            else:
                header = render.t(lang, "librarian_answer", number=ticket.id, text="").rstrip()
                await self.bot.copy_message(chat_id, message.source_chat_id, message.source_message_id, caption=header)
                await self._send_long(chat_id, message.text)

    async def send_entry_to_citizen(self, citizen: Citizen, ticket: Ticket, message: TicketMessage,
                                    entry: Entry, notices: tuple[Notice, ...] = ()) -> None:
        """In the ticket's language, as the bot's own answer with the entry (and its notices), under a line
        naming the ticket."""
        shown = render.entry_answer(entry, ticket.lang, ticket.id, notices)
        with translated():
            await self.bot.send_message(int(citizen.external_id), shown.html, parse_mode=ParseMode.HTML,
                                        disable_web_page_preview=True, reply_markup=shown.markup)

    async def send_to_group(self, ticket: Ticket, message: TicketMessage, citizen_name: str,
                            card_id: int | None) -> list[int]:
        name = citizen_name or "—"
        with translated():
            if not (message.media and message.source_chat_id and message.source_message_id):
                text = render.t(locales.GROUP, "group_citizen_message", number=ticket.id, name=name, text=message.text)
                return await self._send_long(self.group_id, text, _under(card_id))
            caption = render.t(locales.GROUP, "group_citizen_media", number=ticket.id, name=name,
                               media=media_name(message.media))
            full = f"{caption}\n{message.text}" if message.text else caption
            copied = await self.bot.copy_message(self.group_id, message.source_chat_id, message.source_message_id,
                                                 caption=full if len(full) <= CAPTION_LIMIT else caption,
                                                 reply_parameters=_under(card_id))
            ids = [copied.message_id]
            if len(full) > CAPTION_LIMIT:  # a long caption follows the copy in full
                ids += await self._send_long(self.group_id, message.text, _under(copied.message_id))
            return ids

    async def send_notice(self, citizen: Citizen, ticket: Ticket) -> None:
        with translated():
            await self.bot.send_message(int(citizen.external_id),
                                        render.t(citizen.language, "ticket_closed", number=ticket.id),
                                        reply_markup=render.rating_keyboard(ticket.id))

    async def send_note(self, text: str) -> None:
        with translated():
            await self.bot.send_message(self.group_id, text)

    async def send_reminder(self, reminder: Reminder) -> int:
        with translated():
            sent = await self.bot.send_message(self.group_id, render.reminder(reminder), parse_mode=ParseMode.HTML,
                                               reply_parameters=_under(reminder.ticket.card_message_id))
        return sent.message_id

    async def send_digest(self, digest: Digest) -> int:
        """One message (more only when it would not fit); the first one's id."""
        ids = []
        with translated():
            for piece in render.digest(digest, self.zone):
                ids.append((await self.bot.send_message(self.group_id, piece, parse_mode=ParseMode.HTML)).message_id)
        return ids[0]


async def deliver_all(bot: Bot, helpdesk: HelpDesk, group_id: int, zone=None) -> int:
    """One delivery pass through Telegram; how many deliveries succeeded. Its requests are not retried by the
    rate limiter: a failure is written down and retried on the pass's own schedule."""
    with without_retries():
        return await helpdesk.deliver(TelegramSender(bot, group_id, zone))
