"""Citizens' buttons, one handler per kind (see callbacks.py): read the button, call the HelpDesk, reply.

A button that does not read (an old or a forged one) gets the stale-button answer of its kind.
"""

from __future__ import annotations

from typing import TypeVar

from telegram import CallbackQuery, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import locales
from bot.telegram_ui import callbacks, render
from bot.telegram_ui.citizens import citizen_of, escalated_text, reply_html
from bot.telegram_ui.context import BotContext
from bot.domain import Citizen

B = TypeVar("B")


async def _press(update: Update, context: BotContext, kind: type[B]
                 ) -> tuple[CallbackQuery, Citizen, B | None, Message | None]:
    """The press, who pressed, the button (None when it does not read) and the message it is on."""
    query = update.callback_query
    citizen = await citizen_of(update, context)
    message = query.message if isinstance(query.message, Message) else None
    return query, citizen, callbacks.read_as(query.data, kind), message


def _text_of(message: Message | None) -> str:
    return (message.text or message.caption or "") if message else ""


def _question_of(message: Message | None) -> str:
    """The citizen's question a bot message answered (the bot replies to it), if Telegram kept it."""
    return _text_of(message.reply_to_message) if message else ""


async def quietly(edit) -> None:
    """An edit that Telegram refuses because nothing changed (a double tap) is not a fault."""
    try:
        await edit
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def stale(update: Update, context: BotContext) -> None:
    """A button of no kind the bot sends now."""
    query = update.callback_query
    citizen = await citizen_of(update, context)
    await query.answer(render.t(citizen.language, "stale_button"), show_alert=True)


async def menu(update: Update, context: BotContext) -> None:
    """The menu: back to its root, a category's entries, or an entry's answer."""
    query, citizen, button, _ = await _press(update, context, callbacks.Menu)
    lang, kb = citizen.language, context.helpdesk.kb
    await query.answer()
    if button is not None and button.target == "root":
        text, markup = render.menu(kb, lang)
    elif button is not None and button.target == "c" and kb.category(button.id):
        text, markup = render.category(kb, kb.category(button.id), lang)
    elif button is not None and button.target == "e" and kb.entry(button.id):
        entry = kb.entry(button.id)
        await query.message.reply_text(render.entry_text(entry, lang, context.helpdesk.notices_for(entry)), parse_mode=ParseMode.HTML,
                                       disable_web_page_preview=True,
                                       reply_markup=render.entry_from_menu_keyboard(entry, lang))
        return
    else:
        await query.message.reply_text(render.t(lang, "stale_button"))
        return
    await query.message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def choice(update: Update, context: BotContext) -> None:
    """One of the entries a clarify question offered, or "none of these": a ticket."""
    query, citizen, button, message = await _press(update, context, callbacks.Choice)
    lang = citizen.language
    await query.answer()
    if button.entry_id is None:
        reply = await context.helpdesk.decline(citizen, _question_of(message), lang)
        await message.reply_text(escalated_text(reply, lang, context))
        context.courier.soon()
        return
    entry = context.helpdesk.entry(button.entry_id)
    if entry is None:
        await message.reply_text(render.t(lang, "stale_button"))
        return
    answer_lang = context.helpdesk.answer_language(_question_of(message), lang)
    await reply_html(message, render.entry_text(entry, answer_lang, context.helpdesk.notices_for(entry)),
                     render.answer_keyboard(entry, lang), quote=False)


async def feedback(update: Update, context: BotContext) -> None:
    """Helpful or not: recorded once; "not helpful" offers a librarian."""
    query, citizen, button, message = await _press(update, context, callbacks.Feedback)
    lang = citizen.language
    if context.helpdesk.entry(button.entry_id) is None:
        await query.answer(render.t(lang, "stale_button"), show_alert=True)
        return
    if message is None or not message.reply_markup:
        await query.answer()  # a second tap: the feedback is already in
        return
    await context.helpdesk.feedback(citizen, button.entry_id, button.helpful)
    await query.answer(render.t(lang, "feedback_thanks"))
    await quietly(message.edit_reply_markup(None))
    if not button.helpful:
        # The offer replies to the citizen's own question, so "ask a librarian" can pass it on.
        original = message.reply_to_message
        await message.chat.send_message(
            render.t(lang, "not_helpful_offer"), reply_markup=render.ask_librarian_keyboard(button.entry_id, lang),
            reply_parameters=ReplyParameters((original or message).message_id, allow_sending_without_reply=True))


async def ask_librarian(update: Update, context: BotContext) -> None:
    """"Ask a librarian" after an answer that did not help: a ticket with the citizen's question."""
    query, citizen, button, message = await _press(update, context, callbacks.AskLibrarian)
    lang = citizen.language
    await query.answer()
    original = message.reply_to_message if message else None
    from_bot = original is not None and original.from_user is not None and original.from_user.is_bot
    reply = await context.helpdesk.not_helpful(citizen, button.entry_id, "" if from_bot else _text_of(original), lang)
    if message:
        await quietly(message.edit_reply_markup(None))
    await context.bot.send_message(query.from_user.id, escalated_text(reply, lang, context))
    context.courier.soon()


def _on_step(message: Message | None) -> bool:
    """The message shows a step of a walkthrough (it has the "I am stuck" button)."""
    return message is not None and message.reply_markup is not None and any(
        callbacks.read_as(b.callback_data, callbacks.Stuck) is not None
        for row in message.reply_markup.inline_keyboard for b in row)


async def step(update: Update, context: BotContext) -> None:
    """A step of a walkthrough: shown in place of the step before, or as a new message."""
    query, citizen, button, message = await _press(update, context, callbacks.Step)
    lang = citizen.language
    entry = context.helpdesk.entry(button.entry_id) if button else None
    if entry is None or not entry.steps:
        await query.answer(render.t(lang, "stale_button"), show_alert=True)
        return
    await query.answer()
    text, markup = render.step(entry, button.number, lang)
    if _on_step(message):
        await quietly(message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup))
    else:
        await context.bot.send_message(query.from_user.id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def stuck(update: Update, context: BotContext) -> None:
    """"I am stuck" at a step: a ticket naming it."""
    query, citizen, button, _ = await _press(update, context, callbacks.Stuck)
    lang = citizen.language
    reply = await context.helpdesk.stuck(citizen, button.entry_id, button.number, lang) if button else None
    if reply is None:
        await query.answer(render.t(lang, "stale_button"), show_alert=True)
        return
    await query.answer()
    await context.bot.send_message(query.from_user.id, escalated_text(reply, lang, context))
    context.courier.soon()


async def forget(update: Update, context: BotContext) -> None:
    """The answer to "delete my data?"."""
    query, citizen, button, message = await _press(update, context, callbacks.Forget)
    lang = citizen.language
    await query.answer()
    if message:
        await quietly(message.edit_reply_markup(None))
    if not button.confirmed:
        await context.bot.send_message(query.from_user.id, render.t(lang, "forget_kept"))
        return
    for ticket_id in await context.helpdesk.forget(citizen):
        await context.refresh_card(ticket_id)  # the card says so at once, without Take or Close
    await context.bot.send_message(query.from_user.id, render.t(lang, "forget_done"))


async def language(update: Update, context: BotContext) -> None:
    """An interface language: set, and the menu in it."""
    query, citizen, button, _ = await _press(update, context, callbacks.Language)
    lang = button.lang
    if lang not in locales.UI_LANGUAGES:
        await query.answer()
        return
    await context.helpdesk.set_language(citizen, lang)
    await query.answer(render.t(lang, "lang_set"))
    text, markup = render.menu(context.helpdesk.kb, lang)
    await context.bot.send_message(query.from_user.id, render.t(lang, "lang_set") + "\n" + render.t(lang, "start_menu_hint"))
    await context.bot.send_message(query.from_user.id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def rating(update: Update, context: BotContext) -> None:
    """1-5 for a closed ticket of this citizen."""
    query, citizen, button, message = await _press(update, context, callbacks.Rating)
    ok = button is not None and await context.helpdesk.rate(citizen, button.ticket_id, button.rating)
    await query.answer(render.t(citizen.language, "rating_thanks" if ok else "stale_button"))
    if ok and message:
        await quietly(message.edit_reply_markup(None))


async def withdraw(update: Update, context: BotContext) -> None:
    """Withdraw one of the citizen's open tickets (the /cancel buttons)."""
    query, citizen, button, message = await _press(update, context, callbacks.Withdraw)
    ticket = await context.helpdesk.withdraw(citizen, button.ticket_id) if button.ticket_id is not None else None
    await query.answer(render.t(citizen.language, "cancel_done" if ticket else "cancel_missing", number=button.number),
                       show_alert=True)
    if ticket:
        if message:
            await quietly(message.edit_reply_markup(None))
        await context.refresh_card(ticket.id)


# Each kind of citizen button and its handler, for application.py.
HANDLERS = ((callbacks.Menu, menu), (callbacks.Choice, choice), (callbacks.Feedback, feedback),
            (callbacks.AskLibrarian, ask_librarian), (callbacks.Step, step), (callbacks.Stuck, stuck),
            (callbacks.Forget, forget), (callbacks.Language, language), (callbacks.Rating, rating),
            (callbacks.Withdraw, withdraw))
