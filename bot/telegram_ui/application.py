"""The composition root: every handler, in order, and the resources the bot opens and closes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

from telegram import BotCommand, ReplyParameters, Update
from telegram.error import TelegramError
from telegram.request import BaseRequest
from telegram.ext import (Application, ApplicationBuilder, ApplicationHandlerStop,
                          CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, TypeHandler, filters)

from bot import locales, wordinfo
from bot.config import Settings
from bot.helpdesk import HelpDesk
from bot.domain import Channel, utcnow
from bot.telegram_ui import citizen, librarians, render
from bot.telegram_ui.context import AppType, BotContext
from bot.telegram_ui.delivery import Courier, deliver_all, refresh
from bot.telegram_ui.limiter import RetryingRateLimiter
from bot.telegram_ui.ordering import PerChatOrder

log = logging.getLogger(__name__)
DELIVERY_INTERVAL = 3.0  # seconds between passes of the delivery job
CONCURRENT_UPDATES = 64  # chats handled at the same time (one chat's updates always one after another)
IDLE_CHECK_INTERVAL = 600.0  # seconds between looks for answered tickets that fell silent
FLOOD_REPLIES = 3  # held-back messages are answered "not processed" up to this many times FLOOD_LIMIT a minute

CITIZEN_COMMANDS = [("start", "Начать"), ("menu", "Темы"), ("where", "Ближайшая библиотека"),
                    ("status", "Мои вопросы"), ("cancel", "Отменить вопрос"), ("lang", "Язык / Тіл / Language"),
                    ("forget", "Удалить мои данные"), ("help", "Помощь")]


def api_url(base: str, kind: str = "bot") -> str:
    """TELEGRAM_BASE_URL may be given with or without the trailing /bot."""
    base = base.rstrip("/")
    if base.endswith("/bot"):
        base = base[: -len("/bot")]
    return f"{base}/{'file/bot' if kind == 'file' else 'bot'}"


async def delivery_job(context: BotContext) -> None:
    """Deliver whatever is pending; a database or network fault only postpones it to the next pass."""
    try:
        await context.courier.run()
    except Exception:  # noqa: BLE001 - the job must keep running: everything is still in the database
        log.warning("delivery pass failed; will retry", exc_info=True)


def is_card_button(data: object) -> bool:
    """Take, Close and draft buttons: "t:12", "z:12", "d:12"."""
    return isinstance(data, str) and data[:2] in ("t:", "z:", "d:")


async def admit(update: Update, context: BotContext) -> None:
    """Before every handler: an update seen before (a webhook retry, a second instance) is not handled again;
    a citizen sending more than FLOOD_LIMIT messages a minute (counted over all instances) is told, for each
    extra message, that it was not processed and should be sent again after a minute. Button presses do not
    count: the buttons themselves bound them (a walkthrough tapped through quickly shows every step)."""
    chat = update.effective_chat
    citizen_chat = chat.id if chat is not None and chat.type == "private" else None
    counted = update.callback_query is None
    store = context.helpdesk.store
    # An update another process recorded and never finished comes back through recover_unfinished and is
    # taken over here: in polling mode from any other process (only one receives updates at a time, so the
    # other was killed), with webhooks from a process silent for INSTANCE_TIMEOUT seconds.
    take_over_after = 0 if context.settings.webhook is None else context.settings.instance_timeout
    payload = update.to_json()  # kept until the handling finishes
    if citizen_chat is None:
        seen = await store.updates.admit(update.update_id, None, take_over_after=take_over_after, payload=payload,
                                 counted=counted)
    else:  # the citizen and their open tickets come in the same round trip: every handler needs them
        user = update.effective_user
        admission = await store.updates.intake(update.update_id, citizen_chat, Channel.TELEGRAM, str(citizen_chat),
                                       language=citizen.ui_language(user), first_name=(user.first_name if user else "") or "",
                                       take_over_after=take_over_after, payload=payload, counted=counted)
        seen = admission.seen if admission else None
        context.admission = admission
    if seen is None:
        raise ApplicationHandlerStop
    limit = context.settings.flood_limit
    if citizen_chat is None or not counted or not limit or seen <= limit:
        return
    # Held back: the citizen is told so, quoting the message, so nothing is dropped in silence. Past three
    # times the limit (a script, not a person) the bot stops answering until the minute is over.
    if seen <= FLOOD_REPLIES * limit:
        lang = (admission.citizen.language if admission is not None and admission.citizen is not None
                else citizen.ui_language(update.effective_user))
        key = "slow_down" if seen == limit + 1 else "slow_down_again"
        message = update.effective_message
        try:
            await chat.send_message(render.t(lang, key, limit=limit), reply_parameters=ReplyParameters(
                message.message_id, allow_sending_without_reply=True) if message else None)
        except TelegramError:
            pass
    raise ApplicationHandlerStop


async def recover_unfinished(app: Application, silent_for: float = 0) -> int:
    """Updates other processes recorded but never finished handling go back into the queue: in polling mode
    at start (the previous process was killed), with webhooks those of instances silent for `silent_for`
    seconds. Telegram will not send them again: getUpdates confirmed them, the webhook answered 200."""
    helpdesk: HelpDesk = app.bot_data["helpdesk"]
    try:
        unfinished = await helpdesk.store.updates.unfinished(silent_for)
    except Exception:  # noqa: BLE001 - the bot goes on; the database may be back later
        log.warning("could not read the updates other processes left unfinished", exc_info=True)
        return 0
    for update_id, payload in unfinished:
        try:
            await app.update_queue.put(Update.de_json(json.loads(payload), app.bot))
        except (ValueError, TypeError, KeyError):
            log.warning("update %s left unfinished cannot be read again; skipped", update_id)
    if unfinished:
        log.info("%s updates other processes left unfinished are handled here", len(unfinished))
    return len(unfinished)


async def keep_alive_job(context: BotContext) -> None:
    """Every third of INSTANCE_TIMEOUT: tell the other instances this one is alive; with webhooks, take over
    the unfinished updates of an instance that fell silent."""
    try:
        await context.helpdesk.store.updates.heartbeat()
    except Exception:  # noqa: BLE001 - the next beat may reach the database
        log.warning("heartbeat not written", exc_info=True)
        return
    if context.settings.webhook is not None:
        await recover_unfinished(context.application, context.settings.instance_timeout)


async def purge_job(context: BotContext) -> None:
    """Daily: delete question-log rows older than QUERY_LOG_DAYS."""
    since = utcnow() - dt.timedelta(days=context.settings.query_log_days)
    try:
        removed = await context.helpdesk.store.insights.purge_questions(since)
        await context.helpdesk.store.updates.purge(utcnow() - dt.timedelta(days=2))
        log.info("question log: %s rows older than %s days deleted", removed, context.settings.query_log_days)
    except Exception:  # noqa: BLE001 - tomorrow's pass will catch up
        log.warning("question-log purge failed", exc_info=True)


async def idle_tickets_job(context: BotContext) -> None:
    """Close the answered tickets silent for TICKET_IDLE_HOURS: the citizen gets the usual closing message and
    rating prompt (sent by the delivery pass), and each card shows it was closed automatically."""
    try:
        closed = await context.helpdesk.close_idle(context.settings.ticket_idle_hours)
    except Exception:  # noqa: BLE001 - the next run catches up
        log.warning("idle tickets not closed", exc_info=True)
        return
    for ticket in closed:
        await refresh(context, ticket.id)
    if closed:
        context.courier.soon()


async def librarian_button(update: Update, context: BotContext) -> None:
    """Card buttons work only inside the librarians' group."""
    query = update.callback_query
    if not is_card_button(query.data):  # PTB lets a button without data through any pattern
        await citizen.button(update, context)
        return
    message = query.message
    if message is None or message.chat.id != context.settings.librarian_chat_id:
        await query.answer(render.t(locales.GROUP, "librarian_only"), show_alert=True)
        return
    await librarians.button(update, context)


async def on_error(update: object, context: BotContext) -> None:
    """Log every fault with its traceback, and tell the librarians briefly."""
    log.error("error while handling an update", exc_info=context.error)
    try:
        await context.bot.send_message(context.settings.librarian_chat_id,
                                       render.t(locales.GROUP, "bot_error", error=type(context.error).__name__))
    except TelegramError:
        pass
    if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == "private":
        try:
            await update.effective_chat.send_message(render.t(citizen.ui_language(update.effective_user), "error_try_again"))
        except TelegramError:
            pass


def build_application(settings: Settings, helpdesk: HelpDesk, *, request: BaseRequest | None = None,
                      updates_request: BaseRequest | None = None) -> AppType:
    """The bot with every handler. `request` objects are the transport seam: tests pass recording ones."""
    # The rate limiter keeps bursts of replies within Telegram's limits (about 30 messages a second,
    # 20 a minute in a group). A handler's reply that still meets a 429 or a network fault is retried there;
    # the delivery job's requests fail at once and it retries them on its own schedule, kept in the database.
    builder = (ApplicationBuilder().token(settings.token).context_types(ContextTypes(context=BotContext))
               .rate_limiter(RetryingRateLimiter(overall_max_rate=settings.send_rate))
               .concurrent_updates(PerChatOrder(CONCURRENT_UPDATES, finished=lambda u: helpdesk.store.updates.finish(u.update_id))))
    if request is not None:
        builder = builder.request(request).get_updates_request(updates_request or request)
    if settings.base_url:
        builder = builder.base_url(api_url(settings.base_url)).base_file_url(api_url(settings.base_url, "file"))

    async def post_init(app: Application) -> None:
        # The schema is the migrations' business (`egov-bot run` applies them before starting).
        try:
            await app.bot.set_my_commands([BotCommand(name, text) for name, text in CITIZEN_COMMANDS])
        except TelegramError as error:
            log.warning("commands not set: %s", error)
        app.job_queue.run_repeating(delivery_job, interval=DELIVERY_INTERVAL, first=0.5, name="delivery")
        app.job_queue.run_repeating(purge_job, interval=24 * 3600, first=60, name="purge question log")
        app.job_queue.run_repeating(idle_tickets_job, interval=IDLE_CHECK_INTERVAL, first=30, name="close idle tickets")
        try:  # before the first update: until then other instances would count this one as silent
            await helpdesk.store.updates.heartbeat()
        except Exception:  # noqa: BLE001 - the job writes it as soon as the database answers
            log.warning("heartbeat not written", exc_info=True)
        interval = settings.instance_timeout / 3
        app.job_queue.run_repeating(keep_alive_job, interval=interval, first=interval, name="heartbeat")
        if settings.webhook is None:  # polling: this is the only process receiving updates
            await recover_unfinished(app)
        # The word frequencies and the morphological analyser load once, off the event loop, before the
        # first question with a word the knowledge base does not know needs them.
        app.bot_data["warm_up"] = asyncio.get_running_loop().create_task(asyncio.to_thread(wordinfo.warm_up))

    async def post_shutdown(app: Application) -> None:
        await courier.settled(timeout=10)  # what is not sent by then stays in the database for the next start
        await helpdesk.store.dispose()

    app = builder.post_init(post_init).post_shutdown(post_shutdown).build()
    courier = Courier(lambda: deliver_all(app.bot, helpdesk, settings.librarian_chat_id, settings.hours.zone))
    app.bot_data.update(helpdesk=helpdesk, settings=settings, courier=courier)
    app.add_handler(TypeHandler(Update, admit), group=-1)  # before everything else

    group = filters.Chat(chat_id=settings.librarian_chat_id)
    private = filters.ChatType.PRIVATE
    new = filters.UpdateType.MESSAGE  # edited messages are ignored: the original was already handled

    # 1. The librarians' group, filtered once here. Order matters: commands before replies.
    app.add_handler(CommandHandler("queue", librarians.queue_command, filters=group & new))
    app.add_handler(CommandHandler("take", librarians.take_command, filters=group & new))
    app.add_handler(CommandHandler("close", librarians.close_command, filters=group & new))
    app.add_handler(CommandHandler("reload", citizen.reload_command, filters=group & new))  # editors, in the group too
    app.add_handler(MessageHandler(group & new & filters.REPLY & ~filters.COMMAND, librarians.reply))
    app.add_handler(CallbackQueryHandler(librarian_button, pattern=is_card_button))

    # 2. Citizens, in private chats only: updates from other groups and channels match nothing.
    for name, handler in (("start", citizen.start), ("help", citizen.help_command), ("menu", citizen.menu),
                          ("lang", citizen.language), ("status", citizen.status), ("cancel", citizen.cancel),
                          ("where", citizen.where), ("reload", citizen.reload_command), ("forget", citizen.forget)):
        app.add_handler(CommandHandler(name, handler, filters=private & new))
    app.add_handler(CommandHandler(["queue", "take", "close"], citizen.librarian_command_elsewhere, filters=private & new))
    app.add_handler(MessageHandler(private & new & filters.LOCATION, citizen.location))
    app.add_handler(MessageHandler(private & new & filters.TEXT & ~filters.COMMAND, citizen.question))
    app.add_handler(MessageHandler(private & new & filters.COMMAND, citizen.unknown_command))
    app.add_handler(MessageHandler(private & new & ~filters.TEXT & ~filters.StatusUpdate.ALL, citizen.media))
    app.add_handler(CallbackQueryHandler(citizen.button))

    app.add_error_handler(on_error)
    return app
