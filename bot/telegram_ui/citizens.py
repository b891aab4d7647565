"""Handlers for citizens in private chats: read the update, call the HelpDesk, render, reply."""

from __future__ import annotations

import asyncio

from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, ReplyParameters, Update, User
from telegram.constants import ParseMode

from bot import places
from bot.helpdesk import Reply, mentioned_ticket
from bot.notices import help_lines
from bot.telegram_ui import render
from bot.telegram_ui.context import BotContext
from bot.domain import Citizen


def ui_language(user: User | None) -> str:
    code = (user.language_code or "") if user else ""
    return "kk" if code.startswith("kk") else "en" if code.startswith("en") else "ru"


async def citizen_of(update: Update, context: BotContext) -> Citizen:
    if context.admission is not None and context.admission.citizen is not None:  # read with the update id
        return context.admission.citizen
    user = update.effective_user
    return await context.helpdesk.citizen(
        "telegram", str(update.effective_chat.id), language=ui_language(user),
        first_name=(user.first_name if user else "") or "",
    )


async def reply_html(message: Message, text: str, markup=None, *, quote: bool = True) -> Message:
    return await message.reply_text(render.clip(text), parse_mode=ParseMode.HTML, reply_markup=markup,
                                    disable_web_page_preview=True,
                                    reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True)
                                    if quote else None)


async def start(update: Update, context: BotContext) -> None:
    """Greet, say what the bot does, show the menu."""
    citizen = await citizen_of(update, context)
    lang = citizen.language
    text, markup = render.menu(context.helpdesk.kb, lang)
    await update.effective_message.reply_text(
        render.t(lang, "greeting") + "\n\n" + render.t(lang, "start_menu_hint"), reply_markup=ReplyKeyboardRemove())
    await reply_html(update.effective_message, text, markup, quote=False)


async def help_command(update: Update, context: BotContext) -> None:
    """List what the bot can do."""
    citizen = await citizen_of(update, context)
    notices = help_lines(context.helpdesk.active_notices(), citizen.language)  # temporary changes in effect today
    text = render.t(citizen.language, "help") + ("\n\n" + "\n".join(notices) if notices else "")
    await update.effective_message.reply_text(text)


async def menu(update: Update, context: BotContext) -> None:
    """Show the categories."""
    citizen = await citizen_of(update, context)
    text, markup = render.menu(context.helpdesk.kb, citizen.language)
    await reply_html(update.effective_message, text, markup, quote=False)


async def language(update: Update, context: BotContext) -> None:
    """Offer the three interface languages."""
    await update.effective_message.reply_text(render.t("ru", "lang_choose"), reply_markup=render.language_keyboard())


async def show_reply(message: Message, reply: Reply, ui_lang: str, context: BotContext) -> None:
    """Render one HelpDesk result as a reply to the citizen's message."""
    shown = render.reply(reply, ui_lang, context.settings.hours)
    await reply_html(message, shown.html, shown.markup)
    if shown.delivers:
        context.courier.soon()


def escalated_text(reply, lang: str, context: BotContext) -> str:
    return render.escalated_text(reply, lang, context.settings.hours)


def _replying_to(message: Message, context: BotContext) -> int | None:
    """The ticket named by the bot's message this one replies to."""
    target = message.reply_to_message
    if target is None or target.from_user is None or target.from_user.id != context.bot.id:
        return None
    return mentioned_ticket(target.text or target.caption)


async def ask(message: Message, text: str, update: Update, context: BotContext) -> None:
    """A question in words (a text, or a caption): answer, offer a choice, or pass it to a librarian."""
    citizen = await citizen_of(update, context)
    if await context.helpdesk.privacy_warning(citizen, text):
        await message.reply_text(render.t(citizen.language, "privacy_warning"))
    admission = context.admission
    open_tickets = admission.open_tickets if admission is not None and admission.citizen is not None else None
    reply = await context.helpdesk.ask(citizen, text, open_tickets=open_tickets,
                                       replying_to=_replying_to(message, context))
    await show_reply(message, reply, citizen.language, context)


async def question(update: Update, context: BotContext) -> None:
    """Free text: a town the bot asked for after /where, or a question."""
    message = update.effective_message
    citizen = await citizen_of(update, context)
    if await context.helpdesk.awaited(citizen) == "town":
        found = context.helpdesk.places_in(message.text or "")
        if found:
            await send_places(message, [(p, None) for p in found], citizen.language, "where_found")
            return
    await ask(message, message.text or "", update, context)


async def media(update: Update, context: BotContext) -> None:
    """Photos, documents, voice ...: to the open ticket, or a request to write in words."""
    message = update.effective_message
    citizen = await citizen_of(update, context)
    if message.text is not None:  # an empty text (Telegram never sends one, but a forged update may)
        await message.reply_text(render.t(citizen.language, "no_words"))
        return
    if message.contact:  # phone numbers stay with the citizen: librarians never need them
        await message.reply_text(render.t(citizen.language, "contact_not_sent"))
        return
    kind = next((k for k in ("photo", "document", "voice", "video", "audio", "video_note", "sticker",
                             "poll", "animation", "location") if getattr(message, k, None)), "file")
    followup = await context.helpdesk.pass_media(citizen, kind, message.caption or "", message.chat_id, message.message_id)
    if followup is None:
        if (message.caption or "").strip():  # no ticket to add it to: the caption is the question
            await ask(message, message.caption, update, context)
        else:
            await message.reply_text(render.t(citizen.language, "media_without_ticket"))
        return
    await message.reply_text(render.t(citizen.language, "follow_up", number=followup.ticket.id))
    context.courier.soon()


async def status(update: Update, context: BotContext) -> None:
    """List the citizen's open tickets."""
    citizen = await citizen_of(update, context)
    lang = citizen.language
    tickets = await context.helpdesk.open_tickets_of(citizen)
    if not tickets:
        await update.effective_message.reply_text(render.t(lang, "status_none"))
        return
    lines = [render.t(lang, "status_list")] + [
        render.t(lang, "status_item", number=t.id, question=render.clip(t.question, 80),
                 state=render.t(lang, "state_taken" if t.status == "taken" else "state_open"))
        for t in tickets
    ]
    await update.effective_message.reply_text("\n".join(lines))


async def cancel(update: Update, context: BotContext) -> None:
    """Withdraw an open ticket: /cancel N, or buttons to choose."""
    citizen = await citizen_of(update, context)
    lang = citizen.language
    args = context.args or []
    if args:
        number = args[0].lstrip("#")[:20]
        ticket = await context.helpdesk.withdraw(citizen, int(number)) if number.isdigit() and len(number) < 10 else None
        key = "cancel_done" if ticket else "cancel_missing"
        await update.effective_message.reply_text(render.t(lang, key, number=number))
        if ticket:
            await context.refresh_card(ticket.id)
        return
    tickets = await context.helpdesk.open_tickets_of(citizen)
    if not tickets:
        await update.effective_message.reply_text(render.t(lang, "status_none"))
        return
    await update.effective_message.reply_text(render.t(lang, "cancel_choose"),
                                              reply_markup=render.cancel_keyboard(tickets, lang))


async def where(update: Update, context: BotContext) -> None:
    """Nearest library access points: by a town typed after /where, or ask for the location."""
    citizen = await citizen_of(update, context)
    lang = citizen.language
    town = " ".join(context.args or []).strip()
    if not town:
        keyboard = ReplyKeyboardMarkup([[KeyboardButton(render.t(lang, "where_button_location"), request_location=True)]],
                                       resize_keyboard=True, one_time_keyboard=True)
        await context.helpdesk.await_town(citizen)
        await update.effective_message.reply_text(render.t(lang, "where_prompt"), reply_markup=keyboard)
        return
    found = context.helpdesk.places_in(town)
    if not found:
        await update.effective_message.reply_text(render.t(lang, "where_town_missing", town=town[:60]),
                                                  reply_markup=ReplyKeyboardRemove())
        return
    await send_places(update.effective_message, [(p, None) for p in found], lang, "where_found")


async def location(update: Update, context: BotContext) -> None:
    """A shared location: the nearest library access points."""
    citizen = await citizen_of(update, context)
    where_ = update.effective_message.location
    await context.helpdesk.awaited(citizen)  # the location answers /where
    nearby = context.helpdesk.places_near(where_.latitude, where_.longitude)
    if not nearby:
        await update.effective_message.reply_text(render.t(citizen.language, "where_far", km=places.NEAR_KM),
                                                  reply_markup=ReplyKeyboardRemove())
        return
    await send_places(update.effective_message, [(n.point, n.distance_km) for n in nearby], citizen.language, "where_nearest")


async def send_places(message: Message, found: list, lang: str, header: str) -> None:
    if not found:
        await message.reply_text(render.t(lang, "where_none"), reply_markup=ReplyKeyboardRemove())
        return
    await message.reply_text(render.places(found, lang, header), parse_mode=ParseMode.HTML,
                             disable_web_page_preview=True, reply_markup=ReplyKeyboardRemove())


async def forget(update: Update, context: BotContext) -> None:
    """Ask before deleting everything the citizen told the bot."""
    citizen = await citizen_of(update, context)
    lang = citizen.language
    await update.effective_message.reply_text(render.t(lang, "forget_confirm"), reply_markup=render.forget_keyboard(lang))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not know."""
    citizen = await citizen_of(update, context)
    await update.effective_message.reply_text(render.t(citizen.language, "unknown_command"))


async def librarian_command_elsewhere(update: Update, context: BotContext) -> None:
    """/queue, /take, /close, /release, /r outside the librarians' group: say where they work."""
    citizen = await citizen_of(update, context)
    await update.effective_message.reply_text(render.t(citizen.language, "librarian_only"))


async def reload_command(update: Update, context: BotContext) -> None:
    """Editors: reload the knowledge base; on errors keep the last good one."""
    user = update.effective_user
    lang = ui_language(user)
    if user is None or user.id not in context.settings.editor_ids:
        await update.effective_message.reply_text(render.t(lang, "editors_only"))
        return
    # Building the matcher takes a moment: off the event loop, so answers keep flowing meanwhile.
    result = await asyncio.to_thread(context.helpdesk.reload_report, context.settings.knowledge_dir)
    if result.errors:
        errors = "\n".join(str(p) for p in result.errors[:15])
        await update.effective_message.reply_text(render.clip(render.t(lang, "reload_failed", errors=errors)))
        return
    text = render.t(lang, "reload_ok", entries=result.entries)
    if result.removed:
        text += " " + render.t(lang, "reload_removed", removed=", ".join(result.removed))
    await update.effective_message.reply_text(render.clip(text))
