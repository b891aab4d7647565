"""Handlers for citizens in private chats: read the update, call the HelpDesk, render, reply."""

from __future__ import annotations

import asyncio
from html import escape

from telegram import (InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, Message, ReplyKeyboardMarkup,
                      ReplyKeyboardRemove, ReplyParameters, Update, User)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import locales, places
from bot.domain import Channel, Citizen
from bot.helpdesk import Reply, mentioned_ticket, scores
from bot.telegram_ui import render
from bot.telegram_ui.context import BotContext
from bot.telegram_ui.delivery import refresh


def ui_language(user: User | None) -> str:
    code = (user.language_code or "") if user else ""
    return "kk" if code.startswith("kk") else "en" if code.startswith("en") else "ru"


async def citizen_of(update: Update, context: BotContext) -> Citizen:
    if context.admission is not None and context.admission.citizen is not None:  # read with the update id
        return context.admission.citizen
    user = update.effective_user
    return await context.helpdesk.store.citizens.get(
        Channel.TELEGRAM, str(update.effective_chat.id), language=ui_language(user),
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
    text, markup = render.menu(context.helpdesk.library.kb, lang)
    await update.effective_message.reply_text(
        render.t(lang, "greeting") + "\n\n" + render.t(lang, "start_menu_hint"), reply_markup=ReplyKeyboardRemove())
    await reply_html(update.effective_message, text, markup, quote=False)


async def help_command(update: Update, context: BotContext) -> None:
    """List what the bot can do."""
    citizen = await citizen_of(update, context)
    await update.effective_message.reply_text(render.t(citizen.language, "help"))


async def menu(update: Update, context: BotContext) -> None:
    """Show the categories."""
    citizen = await citizen_of(update, context)
    text, markup = render.menu(context.helpdesk.library.kb, citizen.language)
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
    tickets = await context.helpdesk.store.tickets.queue_of(citizen.id)
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
            await refresh(context, ticket.id)
        return
    tickets = await context.helpdesk.store.tickets.queue_of(citizen.id)
    if not tickets:
        await update.effective_message.reply_text(render.t(lang, "status_none"))
        return
    rows = [[InlineKeyboardButton(render.t(lang, "button_cancel_ticket", number=t.id), callback_data=f"w:{t.id}")]
            for t in tickets]
    await update.effective_message.reply_text(render.t(lang, "cancel_choose"), reply_markup=InlineKeyboardMarkup(rows))


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
    content = render.content_lang(lang)
    blocks = [escape(render.t(lang, header))]
    for point, distance in found:
        distance_text = render.t(lang, "where_distance", km=round(distance)) if distance is not None else ""
        lines = [render.t(lang, "where_item", name=point.name.get(content, point.name.get("ru", "")),
                          town=point.town.get(content, point.town.get("ru", "")), distance=distance_text)]
        if point.address:
            lines.append(render.t(lang, "where_address", address=point.address.get(content) or point.address.get("ru", "")))
        if point.phone:
            lines.append(render.t(lang, "where_phone", phone=point.phone))
        if point.hours:
            lines.append(render.t(lang, "where_hours", hours=point.hours.get(content) or point.hours.get("ru", "")))
        if not point.phone:
            lines.append(render.t(lang, "where_no_phone"))
        elif not point.confirmed:
            lines.append(render.t(lang, "where_unconfirmed"))
        block = escape("\n".join(lines))
        if point.website:
            block += f'\n<a href="{escape(point.website, quote=True)}">{escape(point.website)}</a>'
        blocks.append(block)
    await message.reply_text(render.clip("\n\n".join(blocks)), parse_mode=ParseMode.HTML,
                             disable_web_page_preview=True, reply_markup=ReplyKeyboardRemove())


async def forget(update: Update, context: BotContext) -> None:
    """Ask before deleting everything the citizen told the bot."""
    citizen = await citizen_of(update, context)
    lang = citizen.language
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(render.t(lang, "forget_yes"), callback_data="g:yes"),
                                      InlineKeyboardButton(render.t(lang, "forget_no"), callback_data="g:no")]])
    await update.effective_message.reply_text(render.t(lang, "forget_confirm"), reply_markup=keyboard)


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not know."""
    citizen = await citizen_of(update, context)
    await update.effective_message.reply_text(render.t(citizen.language, "unknown_command"))


async def librarian_command_elsewhere(update: Update, context: BotContext) -> None:
    """/queue, /take, /close outside the librarians' group: say where they work."""
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


# --- buttons -----------------------------------------------------------------------------------------


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


async def button(update: Update, context: BotContext) -> None:
    """Every citizen button: menu, clarify, feedback, steps, ask a librarian, language, rating, cancel."""
    query = update.callback_query
    citizen = await citizen_of(update, context)
    lang = citizen.language
    helpdesk = context.helpdesk
    kind, _, rest = (query.data or "").partition(":")
    message = query.message if isinstance(query.message, Message) else None
    if kind == "m":
        await _menu_button(query, rest, lang, context)
    elif kind == "c":
        await query.answer()
        if rest == "-":
            question_text = _question_of(message) or "—"
            decision = helpdesk.library.matcher.match(question_text)
            reply = await helpdesk.escalate(citizen, question_text, decision.lang if question_text != "—" else lang,
                                            kind="declined", candidates=scores(decision))
            await message.reply_text(escalated_text(reply, lang, context))
            context.courier.soon()
        else:
            entry = helpdesk.entry(rest)
            if entry is None:
                await message.reply_text(render.t(lang, "stale_button"))
                return
            asked = _question_of(message)
            answer_lang = helpdesk.library.matcher.match(asked).lang if asked else render.content_lang(lang)
            await reply_html(message, render.entry_text(entry, answer_lang), render.answer_keyboard(entry, lang), quote=False)
    elif kind == "f":
        helpful, _, entry_id = rest.partition(":")
        if helpdesk.entry(entry_id) is None:
            await query.answer(render.t(lang, "stale_button"), show_alert=True)
            return
        if message is None or not message.reply_markup:
            await query.answer()  # a second tap: the feedback is already in
            return
        await helpdesk.feedback(citizen, entry_id, helpful == "y")
        await query.answer(render.t(lang, "feedback_thanks"))
        await quietly(message.edit_reply_markup(None))
        if helpful != "y":
            # The offer replies to the citizen's own question, so "ask a librarian" can pass it on.
            original = message.reply_to_message
            await message.chat.send_message(
                render.t(lang, "not_helpful_offer"), reply_markup=render.ask_librarian_keyboard(entry_id, lang),
                reply_parameters=ReplyParameters((original or message).message_id, allow_sending_without_reply=True))
    elif kind == "a":
        await query.answer()
        entry = helpdesk.entry(rest)
        original = message.reply_to_message if message else None
        from_bot = original is not None and original.from_user is not None and original.from_user.is_bot
        question_text = (None if from_bot else _text_of(original)) or (entry.title["ru"] if entry else "—")
        reply = await helpdesk.escalate(citizen, question_text, render.content_lang(lang), kind="not-helpful", entry_id=rest)
        if message:
            await quietly(message.edit_reply_markup(None))
        await context.bot.send_message(query.from_user.id, escalated_text(reply, lang, context))
        context.courier.soon()
    elif kind in ("s", "x"):
        entry_id, _, number = rest.rpartition(":")
        entry = helpdesk.entry(entry_id)
        out_of_range = kind == "x" and number.isdigit() and not 1 <= int(number) <= len(entry.steps["ru"]) if entry and entry.steps else False
        if entry is None or not entry.steps or not number.isdigit() or len(number) > 4 or out_of_range:
            await query.answer(render.t(lang, "stale_button"), show_alert=True)
            return
        await query.answer()
        if kind == "s":
            text, markup = render.step(entry, int(number), lang)
            on_step = message is not None and message.reply_markup is not None and any(
                (b.callback_data or "").startswith("x:") for row in message.reply_markup.inline_keyboard for b in row)
            if on_step:
                await quietly(message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup))
            else:
                await context.bot.send_message(query.from_user.id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            step_text = entry.steps[render.content_lang(lang)][max(0, min(int(number), len(entry.steps["ru"])) - 1)]
            reply = await helpdesk.escalate(citizen, f"{entry.title[render.content_lang(lang)]}: {step_text}",
                                            render.content_lang(lang), kind="stuck", entry_id=entry.id, step=int(number))
            await context.bot.send_message(query.from_user.id, escalated_text(reply, lang, context))
            context.courier.soon()
    elif kind == "g":
        await query.answer()
        if message:
            await quietly(message.edit_reply_markup(None))
        if rest == "yes":
            for ticket_id in await helpdesk.forget(citizen):
                await refresh(context, ticket_id)  # the card says so at once, without Take or Close
            await context.bot.send_message(query.from_user.id, render.t(lang, "forget_done"))
        else:
            await context.bot.send_message(query.from_user.id, render.t(lang, "forget_kept"))
    elif kind == "l":
        if rest not in locales.UI_LANGUAGES:
            await query.answer()
            return
        await helpdesk.store.citizens.set_language(citizen.id, rest)
        await query.answer(render.t(rest, "lang_set"))
        text, markup = render.menu(helpdesk.library.kb, rest)
        await context.bot.send_message(query.from_user.id, render.t(rest, "lang_set") + "\n" + render.t(rest, "start_menu_hint"))
        await context.bot.send_message(query.from_user.id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
    elif kind == "r":
        ticket_id, _, rating = rest.partition(":")
        ok = ticket_id.isdigit() and rating.isdigit() and await helpdesk.rate(citizen, int(ticket_id), int(rating))
        await query.answer(render.t(lang, "rating_thanks" if ok else "stale_button"))
        if ok and message:
            await quietly(message.edit_reply_markup(None))
    elif kind == "w":
        ticket = await helpdesk.withdraw(citizen, int(rest)) if rest.isdigit() and len(rest) < 10 else None
        await query.answer(render.t(lang, "cancel_done" if ticket else "cancel_missing", number=rest), show_alert=True)
        if ticket:
            if message:
                await quietly(message.edit_reply_markup(None))
            await refresh(context, ticket.id)
    else:
        await query.answer(render.t(lang, "stale_button"), show_alert=True)


async def _menu_button(query, rest: str, lang: str, context: BotContext) -> None:
    kb = context.helpdesk.library.kb
    what, _, value = rest.partition(":")
    await query.answer()
    if rest == "root":
        text, markup = render.menu(kb, lang)
    elif what == "c" and kb.category(value):
        text, markup = render.category(kb, kb.category(value), lang)
    elif what == "e" and kb.entry(value):
        entry = kb.entry(value)
        await query.message.reply_text(render.entry_text(entry, lang), parse_mode=ParseMode.HTML,
                                       disable_web_page_preview=True,
                                       reply_markup=render.entry_from_menu_keyboard(entry, lang))
        return
    else:
        await query.message.reply_text(render.t(lang, "stale_button"))
        return
    await query.message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

