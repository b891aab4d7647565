"""Librarians' answers with a knowledge-base entry: a suggestion button on a card, and /answer.

Both go to HelpDesk.answer_with, which stores the answer for the delivery pass (the citizen gets the entry as
the bot's own answer, under a line saying a librarian chose it); the card then says who answered with what.
"""

from __future__ import annotations

from telegram import Update

from bot import locales
from bot.suggested import EntryAnswer
from bot.telegram_ui import callbacks, render
from bot.telegram_ui.context import BotContext
from bot.telegram_ui.librarians import _card_press, librarian_name, replied_ticket

CALLBACK_TEXT_LIMIT = 200  # Telegram's limit for the text of a button press's answer


def _expected(result: EntryAnswer, number: int) -> str:
    """The entries that fit the ticket, one a line ("eds-obtain — Как получить ЭЦП"), or a hint at ids."""
    if not result.suggestions:
        return render.t(locales.GROUP, "answer_no_suggestions", number=number)
    items = "\n".join(render.t(locales.GROUP, "answer_suggestion_item", entry=e.id, title=e.title["ru"])
                      for e in result.suggestions)
    return render.t(locales.GROUP, "answer_suggestions", number=number, items=items)


def outcome(result: EntryAnswer, number: int, entry_id: str, *, long: bool) -> str:
    """What the librarian is told: sent, or why nothing was sent (`long`: with the entries expected)."""
    title = result.entry.title["ru"] if result.entry else entry_id
    if result.refused is None:
        return render.t(locales.GROUP, "answer_ok", number=number, entry=title)
    if result.refused in ("withdrawn", "forgotten"):
        return render.t(locales.GROUP, f"reply_refused_{result.refused}", number=number)
    text = render.t(locales.GROUP, f"answer_refused_{result.refused}", number=number, entry=title)
    if result.refused == "entry" and long:
        text += "\n" + _expected(result, number)
    return text


async def suggestion_button(update: Update, context: BotContext) -> None:
    """A suggested entry pressed on a card: the citizen gets it."""
    ticket_id = await _card_press(update, context, callbacks.Suggestion)
    if ticket_id is None:
        return
    button = callbacks.read_as(update.callback_query.data, callbacks.Suggestion)
    result = await context.helpdesk.answer_with(ticket_id, button.entry_id, librarian_name(update),
                                                update.effective_user.id)
    text = outcome(result, ticket_id, button.entry_id, long=False)
    await update.callback_query.answer(render.clip(text, CALLBACK_TEXT_LIMIT), show_alert=result.refused is not None)
    if result.refused is None:
        context.courier.soon()  # delivers the answer, then redraws the card: "answered with ..."
    elif result.ticket is not None:
        await context.refresh_card(ticket_id)  # a closed ticket or a removed entry: the card shows what is left


async def answer_command(update: Update, context: BotContext) -> None:
    """/answer N ENTRY_ID, or /answer ENTRY_ID as a reply to a card (or any message of the ticket)."""
    args = context.args or []
    message = update.effective_message
    number, entry_id = None, ""
    if len(args) == 2 and args[0].lstrip("#").isdigit() and len(args[0].lstrip("#")) < 10:
        number, entry_id = int(args[0].lstrip("#")), args[1]
    elif len(args) == 1 and message.reply_to_message is not None and not args[0].lstrip("#").isdigit():
        number, entry_id = await replied_ticket(update, context), args[0]
    if number is None:
        await message.reply_text(render.t(locales.GROUP, "usage_answer"))
        return
    result = await context.helpdesk.answer_with(number, entry_id, librarian_name(update), update.effective_user.id)
    await message.reply_text(render.clip(outcome(result, number, entry_id, long=True)))
    if result.refused is None:
        context.courier.soon()
