"""Handlers for the librarians' group (LIBRARIAN_CHAT_ID): cards, replies, Take / Close, the queue.

The group is filtered once, in application.py: these handlers only ever see updates from it.
"""

from __future__ import annotations

import re
from html import escape

from telegram import Update
from telegram.constants import ParseMode

from bot import locales
from bot.telegram_ui import callbacks, render
from bot.telegram_ui.context import BotContext


TICKET_NUMBER = re.compile(r"^#(\d{1,9})\b")  # cards and relayed messages start with the ticket number


def librarian_name(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return "—"
    return user.full_name or user.username or str(user.id)


async def reply(update: Update, context: BotContext) -> None:
    """A reply to a ticket's card or message: store it, deliver it to the citizen."""
    message = update.effective_message
    target = message.reply_to_message
    if target is None:
        return
    media = next((k for k in ("photo", "document", "voice", "video", "audio", "animation", "sticker", "video_note",
                              "location", "venue", "contact", "poll") if getattr(message, k, None)), None)
    text = message.text or message.caption or ""
    from_bot = target.from_user is not None and target.from_user.id == context.bot.id
    number = TICKET_NUMBER.match(target.text or target.caption or "") if from_bot else None
    result = await context.helpdesk.reply(
        target.message_id, text, librarian_name(update), message.message_id, media=media,
        source_chat_id=message.chat_id if media else None, source_message_id=message.message_id if media else None,
        ticket_number=int(number.group(1)) if number else None,
    )
    if result is None:
        if from_bot:
            await message.reply_text(render.t(locales.GROUP, "reply_not_ticket"))
        return
    ticket = result.ticket
    if result.refused is not None:  # nobody there to receive it: the librarian is told, nothing is sent
        await message.reply_text(render.t(locales.GROUP, f"reply_refused_{result.refused}", number=ticket.id))
        return
    if ticket.status == "open":
        await context.helpdesk.take(ticket.id, update.effective_user.id, librarian_name(update))
    context.courier.soon()


async def _take(update: Update, context: BotContext, ticket_id: int) -> tuple[str, bool]:
    """Take the ticket; the text to show and whether this librarian has it now."""
    result = await context.helpdesk.take(ticket_id, update.effective_user.id, librarian_name(update))
    if result.ticket is None:
        return render.t(locales.GROUP, "ticket_missing", number=ticket_id), False
    if result.taken:
        await context.refresh_card(ticket_id)
        return render.t(locales.GROUP, "take_ok", number=ticket_id), True
    if result.ticket.status == "taken":
        return render.t(locales.GROUP, "take_taken", number=ticket_id, librarian=result.ticket.taken_by), False
    return render.t(locales.GROUP, "take_closed", number=ticket_id), False


async def _close(update: Update, context: BotContext, ticket_id: int) -> str:
    ticket = await context.helpdesk.close(ticket_id, librarian_name(update))
    if ticket is None:
        return render.t(locales.GROUP, "close_missing", number=ticket_id)
    await context.refresh_card(ticket_id)
    context.courier.soon()
    return render.t(locales.GROUP, "close_ok", number=ticket_id)


async def _release(update: Update, context: BotContext, ticket_id: int) -> tuple[str, bool]:
    """Put the ticket back in the queue; the text to show and whether it was released."""
    result = await context.helpdesk.release(ticket_id, update.effective_user.id)
    ticket = result.ticket
    if ticket is None:
        return render.t(locales.GROUP, "ticket_missing", number=ticket_id), False
    if result.released:
        await context.refresh_card(ticket_id)
        return render.t(locales.GROUP, "release_ok", number=ticket_id), True
    if ticket.status == "taken":  # somebody else's: only they may give it back
        return render.t(locales.GROUP, "release_not_yours", number=ticket_id, librarian=ticket.taken_by), False
    if ticket.status == "open":
        return render.t(locales.GROUP, "release_not_taken", number=ticket_id), False
    return render.t(locales.GROUP, "take_closed", number=ticket_id), False


async def _number(update: Update, context: BotContext) -> int | None:
    """The ticket a command names ("/take 12"), or the one whose card (or message) it replies to."""
    args = context.args or []
    value = args[0].lstrip("#") if args else ""
    if value.isdigit() and len(value) < 10:
        return int(value)
    return None if args else await replied_ticket(update, context)


async def replied_ticket(update: Update, context: BotContext) -> int | None:
    """The ticket of the card (or message) a librarian's message replies to."""
    target = update.effective_message.reply_to_message
    if target is None:
        return None
    ticket = await context.helpdesk.ticket_of_group_message(target.message_id)
    if ticket is None and target.from_user is not None and target.from_user.id == context.bot.id:
        number = TICKET_NUMBER.match(target.text or target.caption or "")  # a card the database missed
        return int(number.group(1)) if number else None
    return ticket.id if ticket else None


async def take_command(update: Update, context: BotContext) -> None:
    """/take N, or /take as a reply to a card"""
    number = await _number(update, context)
    text = render.t(locales.GROUP, "usage_take") if number is None else (await _take(update, context, number))[0]
    await update.effective_message.reply_text(text)


async def close_command(update: Update, context: BotContext) -> None:
    """/close N, or /close as a reply to a card"""
    number = await _number(update, context)
    text = render.t(locales.GROUP, "usage_close") if number is None else await _close(update, context, number)
    await update.effective_message.reply_text(text)


async def release_command(update: Update, context: BotContext) -> None:
    """/release N, or /release as a reply to a card: the ticket goes back to the queue."""
    number = await _number(update, context)
    text = render.t(locales.GROUP, "usage_release") if number is None else (await _release(update, context, number))[0]
    await update.effective_message.reply_text(text)


async def queue_command(update: Update, context: BotContext) -> None:
    """/queue: open tickets, oldest first, with age, who took each and whose turn it is."""
    items = await context.helpdesk.queue_view()
    if not items:
        await update.effective_message.reply_text(render.t(locales.GROUP, "queue_empty"))
        return
    lines = [render.t(locales.GROUP, "queue_title")] + [render.queue_item(item) for item in items[:50]]
    await update.effective_message.reply_text(render.clip(escape("\n".join(lines))), parse_mode=ParseMode.HTML)


async def _card_press(update: Update, context: BotContext, kind: type) -> int | None:
    """The ticket of a card button; None when the press was answered here: outside the librarians' group,
    or data that names no ticket."""
    query = update.callback_query
    message = query.message
    if message is None or message.chat.id != context.settings.librarian_chat_id:
        await query.answer(render.t(locales.GROUP, "librarian_only"), show_alert=True)
        return None
    button = callbacks.read_as(query.data, kind)
    if button is None or button.ticket_id is None:
        await query.answer(render.t(locales.GROUP, "stale_button"), show_alert=True)
        return None
    return button.ticket_id


async def take_button(update: Update, context: BotContext) -> None:
    """Take on a card."""
    ticket_id = await _card_press(update, context, callbacks.Take)
    if ticket_id is not None:
        text, taken = await _take(update, context, ticket_id)
        await update.callback_query.answer(text, show_alert=not taken)  # somebody else was quicker: say who


async def close_button(update: Update, context: BotContext) -> None:
    """Close on a card."""
    ticket_id = await _card_press(update, context, callbacks.Close)
    if ticket_id is not None:
        await update.callback_query.answer(await _close(update, context, ticket_id), show_alert=False)


async def draft_button(update: Update, context: BotContext) -> None:
    """"Add to knowledge base" on an answered card: the answer becomes a draft entry."""
    ticket_id = await _card_press(update, context, callbacks.Draft)
    if ticket_id is not None:
        draft = await context.helpdesk.draft(ticket_id, librarian_name(update))
        await update.callback_query.answer(render.t(locales.GROUP, "draft_ok" if draft else "draft_missing",
                                                    number=ticket_id), show_alert=False)


async def release_button(update: Update, context: BotContext) -> None:
    """"Back to the queue" on a taken card: only for the librarian who took it."""
    ticket_id = await _card_press(update, context, callbacks.Release)
    if ticket_id is not None:
        text, released = await _release(update, context, ticket_id)
        await update.callback_query.answer(text, show_alert=not released)
