"""`/r` in the librarians' group: canned replies (knowledge/replies.yaml).

`/r` lists them; `/r ID [a personal line]`, sent as a reply to a ticket's card or any of its messages,
sends that reply to the citizen in the ticket's language, through the same durable path as a typed reply.
"""

from __future__ import annotations

from telegram import Update

from bot import locales
from bot.telegram_ui import render
from bot.telegram_ui.context import BotContext
from bot.telegram_ui.librarians import TICKET_NUMBER, librarian_name


def replies_list(context: BotContext) -> str:
    """Every canned reply with its id and title (the group reads Russian)."""
    replies = context.helpdesk.canned_replies
    if not replies:
        return render.t(locales.GROUP, "canned_none")
    lines = [render.t(locales.GROUP, "canned_list_title")]
    lines += [render.t(locales.GROUP, "canned_list_item", id=reply.id, title=reply.title["ru"]) for reply in replies]
    lines.append(render.t(locales.GROUP, "canned_list_example", id=replies[0].id))
    return render.clip("\n".join(lines))


async def canned_command(update: Update, context: BotContext) -> None:
    """/r, or /r ID [personal line] as a reply to a ticket's message."""
    message = update.effective_message
    parts = (message.text or "").split(None, 2)  # "/r", the id, the personal line (kept as written)
    if len(parts) < 2:
        await message.reply_text(replies_list(context))
        return
    reply_id, personal = parts[1], parts[2] if len(parts) > 2 else ""
    reply = context.helpdesk.canned(reply_id.lower())
    if reply is None:
        ids = ", ".join(r.id for r in context.helpdesk.canned_replies)
        text = (render.t(locales.GROUP, "canned_unknown", id=render.clip(reply_id, 40), ids=ids) if ids
                else render.t(locales.GROUP, "canned_none"))
        await message.reply_text(text)
        return
    target = message.reply_to_message
    if target is None:
        await message.reply_text(render.t(locales.GROUP, "canned_not_reply", id=reply.id))
        return
    from_bot = target.from_user is not None and target.from_user.id == context.bot.id
    number = TICKET_NUMBER.match(target.text or target.caption or "") if from_bot else None
    result = await context.helpdesk.send_canned(reply, personal, target.message_id, librarian_name(update),
                                                message.message_id, ticket_number=int(number.group(1)) if number else None)
    if result is None:
        await message.reply_text(render.t(locales.GROUP, "reply_not_ticket"))
        return
    ticket = result.ticket
    if result.refused is not None:  # nobody there to receive it: nothing is sent
        await message.reply_text(render.t(locales.GROUP, f"reply_refused_{result.refused}", number=ticket.id))
        return
    if ticket.status == "open":
        await context.helpdesk.take(ticket.id, update.effective_user.id, librarian_name(update))
    context.courier.soon()
    await message.reply_text(render.t(locales.GROUP, "canned_sent", number=ticket.id, title=reply.title["ru"]))
