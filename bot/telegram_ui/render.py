"""Results of the core -> Telegram text (HTML) and keyboards. All wording comes from bot.locales."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape, unescape
from typing import assert_never

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import locales
from bot.helpdesk import Answer, Clarify, Escalated, FollowUp, Rated, Reply, SmallTalk
from bot.knowledge import Category, Entry, KnowledgeBase, Notice
from bot.notices import answer_lines as notice_lines
from bot.places import AccessPoint
from bot.telegram_ui import callbacks
from bot.telegram_ui.callbacks import data
from bot.domain import FORGOTTEN, Digest, Reminder, ReminderKind, Ticket
from bot.results import QueueItem

MAX_TEXT = 4000  # Telegram's limit is 4096 characters


def t(lang: str, key: str, /, **values: object) -> str:
    return locales.text(lang, key, **values)


content_lang = locales.content_lang


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escaped_chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` HTML-escaped and cut into pieces that each fit `limit` once escaped (never inside an entity)."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        escaped = escape(char)
        if size + len(escaped) > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(escaped)
        size += len(escaped)
    pieces.append("".join(current))
    return pieces


CARD_QUESTION_LIMIT = 3000  # escaped characters of the question on the card; the rest follows it


def entry_text(entry: Entry, lang: str, notices: tuple[Notice, ...] = ()) -> str:
    """An entry for citizens (the bot's answer, the menu's, a librarian's choice), with the notices active under it."""
    lang = content_lang(lang)
    lines = [f"<b>{escape(entry.title[lang])}</b>", "", escape(entry.answer[lang])]
    if entry.links:
        lines.append("")
        lines += [f'<a href="{escape(link.url_for(lang), quote=True)}">{escape(link.title.get(lang, link.url_for(lang)))}</a>'
                  for link in entry.links]
    if notices:
        lines += ["", *(escape(line) for line in notice_lines(notices, lang))]
    return clip("\n".join(lines))


@dataclass(frozen=True)
class Shown:
    """One reply as Telegram shows it: HTML text and its keyboard."""

    html: str
    markup: InlineKeyboardMarkup | None = None
    delivers: bool = False  # something new is stored for the librarians: a delivery pass should run


def pending_line(number: int | None, ui_lang: str) -> str:
    return "" if number is None else "\n\n" + escape(t(ui_lang, "pending_ticket", number=number))


def reply(result: Reply, ui_lang: str, hours) -> Shown:
    """Every kind of HelpDesk reply as Telegram shows it (one place: a new kind fails type checks here)."""
    lang = result.lang if ui_lang != "en" else "en"  # English readers get the interface in English
    match result:
        case Answer():
            return Shown(entry_text(result.entry, result.lang, result.notices) + pending_line(result.pending, lang),
                         answer_keyboard(result.entry, lang))
        case Clarify():
            text, markup = clarify(result.options, lang)
            return Shown(text + pending_line(result.pending, lang), markup)
        case Escalated():
            return Shown(escape(escalated_text(result, lang, hours)), delivers=True)
        case FollowUp():
            return Shown(escape(t(lang, "follow_up", number=result.ticket.id)), delivers=True)
        case SmallTalk():
            return Shown(escape(locales.small_talk_reply(lang, result.kind)))
        case Rated():
            return Shown(escape(t(lang, "rating_recorded", rating=result.rating)))
        case _:
            assert_never(result)


def escalated_text(result: Escalated, lang: str, hours) -> str:
    if not result.new:  # the same request again, or one question too many: it joined an open ticket
        return t(lang, "follow_up", number=result.ticket.id)
    hours_text_ = hours_text(hours, lang)
    if result.opens_at is None:
        return t(lang, "escalated", number=result.ticket.id) + "\n" + t(lang, "librarian_hours", hours=hours_text_)
    return t(lang, "escalated_off_hours", number=result.ticket.id, hours=hours_text_,
             opens=time_with_suffix(result.opens_at.strftime("%d.%m %H:%M"), lang))


def time_with_suffix(moment: str, lang: str) -> str:
    """"02.12 10:00" with the ending the language needs before "after": in Kazakh "02.12 10:00-ден"
    (the ending follows the last word said: нөл, он, бес, ...)."""
    table = dict(pair.split(":", 1) for pair in t(lang, "time_suffixes").split())
    minutes = moment[-2:]
    if not table or not minutes.isdigit():
        return moment
    key = "0" if minutes == "00" else minutes[0] + "0" if minutes[1] == "0" else minutes[1]
    return f"{moment}-{table[key]}" if key in table else moment


def answer_keyboard(entry: Entry, ui_lang: str) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(t(ui_lang, "button_helpful"), callback_data=data(callbacks.Feedback(True, entry.id))),
             InlineKeyboardButton(t(ui_lang, "button_not_helpful"), callback_data=data(callbacks.Feedback(False, entry.id)))]]
    if entry.steps:
        rows.append([InlineKeyboardButton(t(ui_lang, "button_steps"), callback_data=data(callbacks.Step(entry.id, 1)))])
    return InlineKeyboardMarkup(rows)


def ask_librarian_keyboard(entry_id: str, ui_lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t(ui_lang, "button_ask_librarian"), callback_data=data(callbacks.AskLibrarian(entry_id)))]])


def clarify(options: tuple[Entry, ...], ui_lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lang = content_lang(ui_lang)
    rows = [[InlineKeyboardButton(clip(e.title[lang], 60), callback_data=data(callbacks.Choice(e.id)))] for e in options]
    rows.append([InlineKeyboardButton(t(ui_lang, "clarify_none"), callback_data=data(callbacks.Choice(None)))])
    return escape(t(ui_lang, "clarify_prompt")), InlineKeyboardMarkup(rows)


def step(entry: Entry, number: int, ui_lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lang = content_lang(ui_lang)
    steps = entry.steps[lang]
    number = max(1, min(number, len(steps)))
    text = t(ui_lang, "step_header", title=entry.title[lang], number=number, total=len(steps))
    body = escape(text) + "\n" + escape(steps[number - 1])
    if number == len(steps):
        body += "\n\n" + escape(t(ui_lang, "steps_done"))
    nav = []
    if number > 1:
        nav.append(InlineKeyboardButton(t(ui_lang, "button_prev"), callback_data=data(callbacks.Step(entry.id, number - 1))))
    if number < len(steps):
        nav.append(InlineKeyboardButton(t(ui_lang, "button_next"), callback_data=data(callbacks.Step(entry.id, number + 1))))
    rows = [nav] if nav else []
    rows.append([InlineKeyboardButton(t(ui_lang, "button_stuck"), callback_data=data(callbacks.Stuck(entry.id, number)))])
    return body, InlineKeyboardMarkup(rows)


def menu(kb: KnowledgeBase, ui_lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lang = content_lang(ui_lang)
    rows = [[InlineKeyboardButton(c.title[lang], callback_data=data(callbacks.Menu("c", c.id)))] for c in kb.categories
            if kb.entries_in(c.id)]
    return escape(t(ui_lang, "menu_title")), InlineKeyboardMarkup(rows)


def category(kb: KnowledgeBase, cat: Category, ui_lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lang = content_lang(ui_lang)
    rows = [[InlineKeyboardButton(clip(e.title[lang], 60), callback_data=data(callbacks.Menu("e", e.id)))] for e in kb.entries_in(cat.id)]
    rows.append([InlineKeyboardButton(t(ui_lang, "button_back"), callback_data=data(callbacks.Menu()))])
    return escape(t(ui_lang, "menu_category", title=cat.title[lang])), InlineKeyboardMarkup(rows)


def entry_from_menu_keyboard(entry: Entry, ui_lang: str) -> InlineKeyboardMarkup:
    rows = list(answer_keyboard(entry, ui_lang).inline_keyboard)
    rows.append([InlineKeyboardButton(t(ui_lang, "button_back"), callback_data=data(callbacks.Menu("c", entry.category))),
                 InlineKeyboardButton(t(ui_lang, "button_menu"), callback_data=data(callbacks.Menu()))])
    return InlineKeyboardMarkup(rows)


def language_keyboard() -> InlineKeyboardMarkup:
    names = (("ru", "Русский"), ("kk", "Қазақша"), ("en", "English"))
    return InlineKeyboardMarkup([[InlineKeyboardButton(name, callback_data=data(callbacks.Language(lang)))
                                  for lang, name in names]])


def rating_keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(str(n), callback_data=data(callbacks.Rating(ticket_id, n)))
                                  for n in range(1, 6)]])


def cancel_keyboard(tickets: list[Ticket], ui_lang: str) -> InlineKeyboardMarkup:
    """One button per open ticket, to withdraw it."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t(ui_lang, "button_cancel_ticket", number=ticket.id),
                                                       callback_data=data(callbacks.Withdraw(str(ticket.id))))]
                                 for ticket in tickets])


def forget_keyboard(ui_lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t(ui_lang, "forget_yes"), callback_data=data(callbacks.Forget(True))),
                                  InlineKeyboardButton(t(ui_lang, "forget_no"), callback_data=data(callbacks.Forget(False)))]])


def places(found: list[tuple[AccessPoint, float | None]], ui_lang: str, header: str) -> str:
    """Knowledge access points (with their distance, when known) under a header, as HTML."""
    content = content_lang(ui_lang)

    def text(values: dict[str, str]) -> str:
        return values.get(content) or values.get("ru", "")

    blocks = [escape(t(ui_lang, header))]
    for point, distance in found:
        distance_text = t(ui_lang, "where_distance", km=round(distance)) if distance is not None else ""
        lines = [t(ui_lang, "where_item", name=point.name.get(content, point.name.get("ru", "")),
                   town=point.town.get(content, point.town.get("ru", "")), distance=distance_text)]
        if point.address:
            lines.append(t(ui_lang, "where_address", address=text(point.address)))
        if point.phone:
            lines.append(t(ui_lang, "where_phone", phone=point.phone))
        if point.hours:
            lines.append(t(ui_lang, "where_hours", hours=text(point.hours)))
        if not point.phone:
            lines.append(t(ui_lang, "where_no_phone"))
        elif not point.confirmed:
            lines.append(t(ui_lang, "where_unconfirmed"))
        block = escape("\n".join(lines))
        if point.website:
            block += f'\n<a href="{escape(point.website, quote=True)}">{escape(point.website)}</a>'
        blocks.append(block)
    return clip("\n\n".join(blocks))


def hours_text(hours, lang: str) -> str:
    """Librarians' hours for citizens: "Пн–Пт 09:00–18:00, Сб 10:00–14:00 (время Казахстана)"."""
    names = t(lang, "weekdays").split()
    by_time: dict[tuple, list[int]] = {}
    for day, start, end in hours.windows:
        by_time.setdefault((start, end), []).append(day)
    parts = []
    for (start, end), days in sorted(by_time.items(), key=lambda item: min(item[1])):
        days = sorted(days)
        runs = [[days[0], days[0]]]
        for day in days[1:]:
            if day == runs[-1][1] + 1:
                runs[-1][1] = day
            else:
                runs.append([day, day])
        spans = [names[a] if a == b else f"{names[a]}–{names[b]}" for a, b in runs]
        parts.append(f"{', '.join(spans)} {start:%H:%M}–{end:%H:%M}")
    zone = t(lang, "time_kazakhstan") if str(hours.zone) == "Asia/Almaty" else str(hours.zone)
    return f"{', '.join(parts)} ({zone})"


def local_time(moment: dt.datetime, zone) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zone).strftime("%d.%m %H:%M") if zone else moment.strftime("%d.%m %H:%M UTC")


# --- the librarians' group (Russian) ---------------------------------------------------------------


def card(ticket: Ticket, first_name: str, kb: KnowledgeBase, zone=None, *, answered: tuple[str, dt.datetime] | None = None,
         answered_with: Entry | None = None) -> str:
    """The ticket's card: who asks, what, what the matcher considered; its state. Never a phone number."""
    question = escaped_chunks(ticket.question, CARD_QUESTION_LIMIT)
    shown = question[0] + ("…" if len(question) > 1 else "")
    lines = [escape(t(locales.GROUP, "card", number=ticket.id, language=ticket.lang, name=first_name or "—",
                      when=local_time(ticket.created_at, zone), question="\x00")).replace("\x00", shown)]

    def title(entry_id: str | None) -> str:
        entry = kb.entry(entry_id) if entry_id else None
        return entry.title["ru"] if entry else (entry_id or "—")

    candidates = ", ".join(title(c.get("id")) for c in ticket.candidates[:3])
    if ticket.kind == "not-helpful":
        lines.append(escape(t(locales.GROUP, "card_not_helpful", entry=title(ticket.entry_id))))
    elif ticket.kind == "stuck":
        lines.append(escape(t(locales.GROUP, "card_stuck", step=ticket.step, entry=title(ticket.entry_id))))
    elif ticket.kind == "declined" and candidates:
        lines.append(escape(t(locales.GROUP, "card_declined", candidates=candidates)))
    elif candidates:
        lines.append(escape(t(locales.GROUP, "card_candidates", candidates=candidates)))
    if ticket.status == "taken" and ticket.taken_by:
        lines.append(escape(t(locales.GROUP, "card_taken", librarian=ticket.taken_by)))
    if answered and answered_with is not None:
        lines.append(escape(t(locales.GROUP, "card_answered_with", entry=answered_with.title["ru"], librarian=answered[0],
                              when=local_time(answered[1], zone))))
    elif answered:
        lines.append(escape(t(locales.GROUP, "card_answered", librarian=answered[0], when=local_time(answered[1], zone))))
    if ticket.status == "closed" and ticket.closed_at:
        closed_by = t(locales.GROUP, "closed_automatically") if ticket.closed_by == "auto" else ticket.closed_by or "—"
        lines.append(escape(t(locales.GROUP, "card_closed", librarian=closed_by, when=local_time(ticket.closed_at, zone))))
    if ticket.status == "withdrawn":
        lines.append(escape(t(locales.GROUP, "card_forgotten" if ticket.question == FORGOTTEN else "card_withdrawn")))
    if ticket.citizen_blocked:
        lines.append(escape(t(locales.GROUP, "card_blocked")))
    return "\n".join(lines)


def card_continuation(ticket: Ticket) -> list[str]:
    """The escaped rest of a question too long for its card, in messages that fit Telegram."""
    rest = "".join(escaped_chunks(ticket.question, CARD_QUESTION_LIMIT)[1:])
    return [] if not rest else escaped_chunks(unescape(rest))


def card_keyboard(ticket: Ticket, answered: bool = False) -> InlineKeyboardMarkup | None:
    row = []
    if ticket.status == "open":
        row.append(InlineKeyboardButton(t(locales.GROUP, "button_take"), callback_data=data(callbacks.Take(ticket.id))))
    if ticket.is_open:
        row.append(InlineKeyboardButton(t(locales.GROUP, "button_close"), callback_data=data(callbacks.Close(ticket.id))))
    if ticket.status == "taken":
        row.append(InlineKeyboardButton(t(locales.GROUP, "button_release"), callback_data=data(callbacks.Release(ticket.id))))
    if answered:
        row.append(InlineKeyboardButton(t(locales.GROUP, "button_draft"), callback_data=data(callbacks.Draft(ticket.id))))
    return InlineKeyboardMarkup([row]) if row else None


def with_suggestions(markup: InlineKeyboardMarkup | None, ticket: Ticket,
                     entries: tuple[Entry, ...]) -> InlineKeyboardMarkup | None:
    """The card's keyboard with one row per suggested entry under it (an open ticket only): pressed, the
    citizen gets that entry. An entry whose button data would not fit Telegram's 64 bytes is left out."""
    rows = [list(row) for row in markup.inline_keyboard] if markup else []
    if ticket.is_open:
        for entry in entries:
            value = data(callbacks.Suggestion(ticket.id, entry.id))
            if len(value.encode()) <= callbacks.MAX_DATA:
                rows.append([InlineKeyboardButton(t(locales.GROUP, "button_suggestion", title=clip(entry.title["ru"], 50)),
                                                  callback_data=value)])
    return InlineKeyboardMarkup(rows) if rows else None


def entry_answer(entry: Entry, lang: str, number: int, notices: tuple[Notice, ...] = ()) -> Shown:
    """A librarian's answer with an entry, for the citizen: one line saying a librarian chose it, then the
    entry exactly as the bot answers with it (title, text, links; Helpful / Not helpful, the walkthrough)."""
    lang = content_lang(lang)
    header = escape(t(lang, "librarian_chose_entry", number=number))
    return Shown(clip(header + "\n\n" + entry_text(entry, lang, notices)), answer_keyboard(entry, lang))


def age(created_at: dt.datetime, now: dt.datetime) -> str:
    """How long a ticket has waited, for the queue: "5 мин", "3 ч 20 мин", "4 дн"."""
    return minutes_text(int((now - created_at).total_seconds() // 60))


def minutes_text(minutes: int) -> str:
    """A wait in minutes as the group reads it: "5 мин", "3 ч 20 мин", "4 дн"."""
    if minutes < 60:
        return t(locales.GROUP, "age_minutes", minutes=minutes)
    if minutes < 48 * 60:
        return t(locales.GROUP, "age_hours", hours=minutes // 60, minutes=minutes % 60)
    return t(locales.GROUP, "age_days", days=minutes // 1440)


def queue_item(item: QueueItem) -> str:
    """One line of /queue (plain text): number, age, who has it, whose turn it is, the question."""
    ticket = item.ticket
    state = (t(locales.GROUP, "queue_state_taken", librarian=ticket.taken_by) if ticket.status == "taken"
             else t(locales.GROUP, "queue_state_open"))
    waiting = t(locales.GROUP, "queue_waiting_citizen" if item.waiting_for_citizen else "queue_waiting_librarians")
    if item.past_reminder:
        waiting += " " + t(locales.GROUP, "queue_past_reminder")
    return t(locales.GROUP, "queue_item", number=ticket.id, age=minutes_text(item.waited_minutes), state=state,
             waiting=waiting, question=clip(ticket.question, 80))


# --- reminders and the out-of-hours digest (bot.reminders) ---------------------------------------------------

REMINDER_QUESTION_LIMIT = 300  # characters of the question quoted in a reminder
DIGEST_QUESTION_LIMIT = 120  # in a digest line: about 30 tickets fit one message


def reminder(item: Reminder) -> str:
    """"⏰ #12 ждёт 30 мин ...: <question>"; a reply reminder names (and mentions) the librarian who took it."""
    ticket = item.ticket
    question = escape(clip(ticket.question, REMINDER_QUESTION_LIMIT))
    if item.kind == ReminderKind.REPLY:
        name = escape(ticket.taken_by or "—")
        if item.librarian_id:
            name = f'<a href="tg://user?id={int(item.librarian_id)}">{name}</a>'
        text = t(locales.GROUP, "reminder_reply", number=ticket.id, librarian="\x00", minutes=item.minutes, question="\x01")
        return escape(text).replace("\x00", name).replace("\x01", question)
    text = t(locales.GROUP, "reminder_take", number=ticket.id, minutes=item.minutes, question="\x01")
    return escape(text).replace("\x01", question)


def digest(item: Digest, zone=None) -> list[str]:
    """The out-of-hours digest, oldest first, in as many messages as it takes (usually one)."""
    lines = [escape(t(locales.GROUP, "digest_title", count=len(item.tickets)))]
    for ticket in item.tickets:
        lines.append(escape(t(locales.GROUP, "digest_item", number=ticket.id, when=local_time(ticket.created_at, zone),
                              question=clip(ticket.question, DIGEST_QUESTION_LIMIT))))
    pieces, current = [], ""
    for line in lines:
        if current and len(current) + 1 + len(line) > MAX_TEXT:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return pieces + [current]
