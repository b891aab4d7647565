"""The composition root: every handler, in order, and the resources the bot opens and closes."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.request import BaseRequest
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes,
                          MessageHandler, TypeHandler, filters)

from bot import locales, wordinfo
from bot.config import Settings
from bot.delivery import Courier
from bot.helpdesk import HelpDesk
from bot.telegram_ui import answers, buttons, callbacks, canned, citizens, jobs, librarians, render
from bot.telegram_ui.context import AppType, BotContext
from bot.telegram_ui.intake import admit, recover_unfinished
from bot.telegram_ui.limiter import RetryingRateLimiter
from bot.telegram_ui.ordering import PerChatOrder
from bot.telegram_ui.sender import TelegramSender, deliver_all
from bot.telegram_ui.transport import JsonRequest, RawUpdates, UpdatesRequest

log = logging.getLogger(__name__)
CONCURRENT_UPDATES = 64  # chats handled at the same time (one chat's updates always one after another)

CITIZEN_COMMANDS = ("start", "menu", "where", "status", "cancel", "lang", "forget", "help")  # the menu, in order
MENU_LANGUAGES = (None, "kk", "en")  # the menu's descriptions: Russian by default, Kazakh and English for those apps


def api_url(base: str, kind: str = "bot") -> str:
    """TELEGRAM_BASE_URL may be given with or without the trailing /bot."""
    base = base.rstrip("/")
    if base.endswith("/bot"):
        base = base[: -len("/bot")]
    return f"{base}/{'file/bot' if kind == 'file' else 'bot'}"


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
            await update.effective_chat.send_message(render.t(citizens.ui_language(update.effective_user), "error_try_again"))
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
               .concurrent_updates(PerChatOrder(CONCURRENT_UPDATES, finished=lambda u: helpdesk.finish_update(u.update_id))))
    raw_updates = RawUpdates()
    if request is None:  # JSON bodies, and the updates kept as received (transport.py)
        request, updates_request = JsonRequest(connection_pool_size=256), UpdatesRequest(raw_updates, connection_pool_size=1)
    builder = builder.request(request).get_updates_request(updates_request or request)
    if settings.base_url:
        builder = builder.base_url(api_url(settings.base_url)).base_file_url(api_url(settings.base_url, "file"))

    async def post_init(app: Application) -> None:
        # The schema is the migrations' business (`egov-bot run` applies them before starting).
        try:
            for language in MENU_LANGUAGES:
                commands = [BotCommand(name, render.t(language or "ru", f"command_{name}")) for name in CITIZEN_COMMANDS]
                await app.bot.set_my_commands(commands, language_code=language)
        except TelegramError as error:
            log.warning("commands not set: %s", error)
        jobs.schedule(app, settings)
        try:  # before the first update: until then other instances would count this one as silent
            await helpdesk.heartbeat()
        except Exception:  # noqa: BLE001 - the job writes it as soon as the database answers
            log.warning("heartbeat not written", exc_info=True)
        if settings.webhook is None:  # polling: this is the only process receiving updates
            await recover_unfinished(app)
        # The word frequencies and the morphological analyser load once, off the event loop, before the
        # first question with a word the knowledge base does not know needs them.
        app.bot_data["warm_up"] = asyncio.get_running_loop().create_task(asyncio.to_thread(wordinfo.warm_up))

    async def post_shutdown(app: Application) -> None:
        await courier.settled(timeout=10)  # what is not sent by then stays in the database for the next start
        await helpdesk.shutdown()

    app = builder.post_init(post_init).post_shutdown(post_shutdown).build()
    courier = Courier(lambda: deliver_all(app.bot, helpdesk, settings.librarian_chat_id, settings.hours.zone))
    app.bot_data.update(helpdesk=helpdesk, settings=settings, courier=courier, raw_updates=raw_updates,
                        sender=TelegramSender(app.bot, settings.librarian_chat_id, settings.hours.zone))
    app.add_handler(TypeHandler(Update, admit), group=-1)  # before everything else: duplicates, flood control

    group = filters.Chat(chat_id=settings.librarian_chat_id)
    private = filters.ChatType.PRIVATE
    new = filters.UpdateType.MESSAGE  # edited messages are ignored: the original was already handled

    # 1. The librarians' group, filtered once here. Order matters: commands before replies.
    app.add_handler(CommandHandler("queue", librarians.queue_command, filters=group & new))
    app.add_handler(CommandHandler("take", librarians.take_command, filters=group & new))
    app.add_handler(CommandHandler("close", librarians.close_command, filters=group & new))
    app.add_handler(CommandHandler("release", librarians.release_command, filters=group & new))
    app.add_handler(CommandHandler("r", canned.canned_command, filters=group & new))
    app.add_handler(CommandHandler("answer", answers.answer_command, filters=group & new))
    app.add_handler(CommandHandler("reload", citizens.reload_command, filters=group & new))  # editors, in the group too
    app.add_handler(MessageHandler(group & new & filters.REPLY & ~filters.COMMAND, librarians.reply))

    # 2. Citizens, in private chats only: updates from other groups and channels match nothing.
    # Order matters: commands first, then locations, texts, unknown commands, and any other message last.
    for name, handler in (("start", citizens.start), ("help", citizens.help_command), ("menu", citizens.menu),
                          ("lang", citizens.language), ("status", citizens.status), ("cancel", citizens.cancel),
                          ("where", citizens.where), ("reload", citizens.reload_command), ("forget", citizens.forget)):
        app.add_handler(CommandHandler(name, handler, filters=private & new))
    app.add_handler(CommandHandler(["queue", "take", "close", "release", "r", "answer"],
                                   citizens.librarian_command_elsewhere, filters=private & new))
    app.add_handler(MessageHandler(private & new & filters.LOCATION, citizens.location))
    app.add_handler(MessageHandler(private & new & filters.TEXT & ~filters.COMMAND, citizens.question))
    app.add_handler(MessageHandler(private & new & filters.COMMAND, citizens.unknown_command))
    app.add_handler(MessageHandler(private & new & ~filters.TEXT & ~filters.StatusUpdate.ALL, citizens.media))

    # 3. Buttons, one handler per kind (callbacks.py). The stale-button handler comes first: PTB hands a press
    # without data to the first handler with a pattern, without asking the pattern.
    app.add_handler(CallbackQueryHandler(buttons.stale, pattern=callbacks.unknown))
    app.add_handler(CallbackQueryHandler(librarians.take_button, pattern=callbacks.pattern(callbacks.Take)))
    app.add_handler(CallbackQueryHandler(librarians.close_button, pattern=callbacks.pattern(callbacks.Close)))
    app.add_handler(CallbackQueryHandler(librarians.draft_button, pattern=callbacks.pattern(callbacks.Draft)))
    app.add_handler(CallbackQueryHandler(librarians.release_button, pattern=callbacks.pattern(callbacks.Release)))
    app.add_handler(CallbackQueryHandler(answers.suggestion_button, pattern=callbacks.pattern(callbacks.Suggestion)))
    for kind, handler in buttons.HANDLERS:
        app.add_handler(CallbackQueryHandler(handler, pattern=callbacks.pattern(kind)))

    app.add_error_handler(on_error)
    return app
