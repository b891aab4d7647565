"""Before any handler: each update is recorded (so a duplicate or a restart never handles it twice), the
citizen is read with it, and a citizen sending too much is held back. Updates left unfinished come back here."""

from __future__ import annotations

import json
import logging

from telegram import ReplyParameters, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop

from bot.helpdesk import HelpDesk
from bot.telegram_ui import render
from bot.telegram_ui.citizens import ui_language
from bot.telegram_ui.context import BotContext

log = logging.getLogger(__name__)
FLOOD_REPLIES = 3  # held-back messages are answered "not processed" up to this many times FLOOD_LIMIT a minute


async def admit(update: Update, context: BotContext) -> None:
    """Before every handler: an update seen before (a webhook retry, a second instance) is not handled again;
    a citizen sending more than FLOOD_LIMIT messages a minute (counted over all instances) is told, for each
    extra message, that it was not processed and should be sent again after a minute. Button presses do not
    count: the buttons themselves bound them (a walkthrough tapped through quickly shows every step)."""
    chat = update.effective_chat
    citizen_chat = chat.id if chat is not None and chat.type == "private" else None
    counted = update.callback_query is None
    helpdesk = context.helpdesk
    # An update another process recorded and never finished comes back through recover_unfinished and is
    # taken over here: in polling mode from any other process (only one receives updates at a time, so the
    # other was killed), with webhooks from a process silent for INSTANCE_TIMEOUT seconds.
    take_over_after = 0 if context.settings.webhook is None else context.settings.instance_timeout
    # Kept until the handling finishes: as Telegram sent it when it came through getUpdates (cheaper).
    payload = context.raw_updates.take(update.update_id) or update.to_json()
    if citizen_chat is None:
        seen = await helpdesk.admit(update.update_id, None, take_over_after=take_over_after, payload=payload,
                                    counted=counted)
    else:  # the citizen and their open tickets come in the same round trip: every handler needs them
        user = update.effective_user
        admission = await helpdesk.intake(update.update_id, citizen_chat, "telegram", str(citizen_chat),
                                          language=ui_language(user), first_name=(user.first_name if user else "") or "",
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
                else ui_language(update.effective_user))
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
        unfinished = await helpdesk.unfinished_updates(silent_for)
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
