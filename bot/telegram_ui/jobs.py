"""What the bot does on a schedule: delivery passes, heartbeats, closing idle tickets, purging old rows."""

from __future__ import annotations

import logging

from telegram.ext import Application

from bot.config import Settings
from bot.telegram_ui.context import BotContext
from bot.telegram_ui.intake import recover_unfinished

log = logging.getLogger(__name__)
DELIVERY_INTERVAL = 3.0  # seconds between passes of the delivery job
IDLE_CHECK_INTERVAL = 600.0  # seconds between looks for answered tickets that fell silent
PURGE_INTERVAL = 24 * 3600.0


async def delivery_job(context: BotContext) -> None:
    """Deliver whatever is pending; a database or network fault only postpones it to the next pass."""
    try:
        await context.courier.run()
    except Exception:  # noqa: BLE001 - the job must keep running: everything is still in the database
        log.warning("delivery pass failed; will retry", exc_info=True)


async def keep_alive_job(context: BotContext) -> None:
    """Every third of INSTANCE_TIMEOUT: tell the other instances this one is alive; with webhooks, take over
    the unfinished updates of an instance that fell silent."""
    try:
        await context.helpdesk.heartbeat()
    except Exception:  # noqa: BLE001 - the next beat may reach the database
        log.warning("heartbeat not written", exc_info=True)
        return
    if context.settings.webhook is not None:
        await recover_unfinished(context.application, context.settings.instance_timeout)


async def purge_job(context: BotContext) -> None:
    """Daily: delete question-log rows older than QUERY_LOG_DAYS."""
    try:
        removed = await context.helpdesk.purge(context.settings.query_log_days)
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
        await context.refresh_card(ticket.id)
    if closed:
        context.courier.soon()


def schedule(app: Application, settings: Settings) -> None:
    """Every job, in the application's job queue."""
    app.job_queue.run_repeating(delivery_job, interval=DELIVERY_INTERVAL, first=0.5, name="delivery")
    app.job_queue.run_repeating(purge_job, interval=PURGE_INTERVAL, first=60, name="purge question log")
    app.job_queue.run_repeating(idle_tickets_job, interval=IDLE_CHECK_INTERVAL, first=30, name="close idle tickets")
    interval = settings.instance_timeout / 3
    app.job_queue.run_repeating(keep_alive_job, interval=interval, first=interval, name="heartbeat")
