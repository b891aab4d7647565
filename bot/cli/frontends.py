"""egov-bot console, run and start: the two front ends over the HelpDesk."""

from __future__ import annotations

import argparse
import os

from bot import config
from bot.cli.common import UsageError, build_helpdesk, database_errors, run_async, upgrade_database, with_helpdesk


def cmd_console(args: argparse.Namespace) -> int:
    from bot.console import Console

    try:
        with_helpdesk(args, lambda helpdesk: Console(helpdesk).run())
    except KeyboardInterrupt:
        print()
    return 0


def _use_uvloop() -> None:
    """uvloop, where installed (not on Windows), runs the bot's event loop: less CPU per message."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def cmd_run(args: argparse.Namespace) -> int:
    """The Telegram bot with long polling; settings from the environment and .env."""
    import logging

    from bot.telegram_ui.application import build_application

    # Opt in to PTB's timedelta durations: no deprecation warning on every 429 from Telegram.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    try:
        settings = config.Settings.from_env(options={"KNOWLEDGE_DIR": args.knowledge, "DATABASE_URL": args.database},
                                            webhook=args.webhook)
    except config.ConfigError as error:
        raise UsageError(str(error)) from None
    # The application runs its own event loop and disposes the store at shutdown: no open_helpdesk() here.
    from bot.reminders import Timers

    timers = Timers(settings.take_reminder_minutes, settings.reply_reminder_minutes)
    helpdesk = build_helpdesk(str(settings.knowledge_dir), settings.database_url, settings.hours, timers)
    if not args.no_migrate:
        run_async(upgrade_database(settings.database_url))  # a store of its own, in an event loop of its own
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = build_application(settings, helpdesk)
    allowed = ["message", "edited_message", "callback_query", "channel_post"]
    _use_uvloop()
    with database_errors():
        if settings.webhook:
            hook = settings.webhook
            app.run_webhook(listen=hook.listen, port=hook.port, url_path=hook.path, webhook_url=hook.url,
                            secret_token=hook.secret, allowed_updates=allowed)
        else:
            app.run_polling(allowed_updates=allowed)
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    """`make run`: the Telegram bot when a token is set, otherwise the console chat."""
    if config.setting("TELEGRAM_BOT_TOKEN"):  # in the environment or in .env
        return cmd_run(args)
    return cmd_console(args)
