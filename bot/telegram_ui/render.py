"""Results of the core -> Telegram text (HTML) and keyboards. All wording comes from bot.locales."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape, unescape
from typing import assert_never

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import locales
from bot.helpdesk import Answer, Clarify, Escalated, FollowUp, Rated, Reply, SmallTalk
from bot.knowledge import Category, Entry, KnowledgeBase
from bot.domain import FORGOTTEN, Ticket

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


def entry_text(entry: Entry, lang: str) -> str:
    lang = content_lang(lang)
    lines = [f"<b>{escape(entry.title[lang])}</b>", "", escape(entry.answer[lang])]
    if entry.links:
        lines.append("")
        lines += [f'<a href="{escape(link.url_for(lang), quote=True)}">{escape(link.title.get(lang, link.url_for(lang)))}</a>'
                  for link in entry.links]
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
            return Shown(entry_text(result.entry, result.lang) + pending_line(result.pending, lang),
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
    rows = [[InlineKeyboardButton(t(ui_lang, "button_helpful"), callback_data=f"f:y:{entry.id}"),
             InlineKeyboardButton(t(ui_lang, "button_not_helpful"), callback_data=f"f:n:{entry.id}")]]
    if entry.steps:
        rows.append([InlineKeyboardButton(t(ui_lang, "button_steps"), callback_data=f"s:{entry.id}:1")])
    return InlineKeyboardMarkup(rows)


def ask_librarian_keyboard(entry_id: str, ui_lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t(ui_lang, "button_ask_librarian"), callback_data=f"a:{entry_id}")]])


def clarify(options: tuple[Entry, ...], ui_lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lang = content_lang(ui_lang)
    rows = [[InlineKeyboardButton(clip(e.title[lang], 60), callback_data=f"c:{e.id}")] for e in options]
    rows.append([InlineKeyboardButton(t(ui_lang, "clarify_none"), callback_data="c:-")])
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
        nav.append(InlineKeyboardButton(t(ui_lang, "button_prev"), callback_data=f"s:{entry.id}:{number - 1}"))
    if number < len(steps):
        nav.append(InlineKeyboardButton(t(ui_lang, "button_next"), callback_data=f"s:{entry.id}:{number + 1}"))
    rows = [nav] if nav else []
    rows.append([InlineKeyboardButton(t(ui_lang, "button_stuck"), callback_data=f"x:{entry.id}:{number}")])
    return body, InlineKeyboardMarkup(rows)


def menu(kb: KnowledgeBase, ui_lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lang = content_lang(ui_lang)
    rows = [[InlineKeyboardButton(c.title[lang], callback_data=f"m:c:{c.id}")] for c in kb.categories
            if kb.entries_in(c.id)]
    return escape(t(ui_lang, "menu_title")), InlineKeyboardMarkup(rows)


def category(kb: KnowledgeBase, cat: Category, ui_lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lang = content_lang(ui_lang)
    rows = [[InlineKeyboardButton(clip(e.title[lang], 60), callback_data=f"m:e:{e.id}")] for e in kb.entries_in(cat.id)]
    rows.append([InlineKeyboardButton(t(ui_lang, "button_back"), callback_data="m:root")])
    return escape(t(ui_lang, "menu_category", title=cat.title[lang])), InlineKeyboardMarkup(rows)


def entry_from_menu_keyboard(entry: Entry, ui_lang: str) -> InlineKeyboardMarkup:
    rows = list(answer_keyboard(entry, ui_lang).inline_keyboard)
    rows.append([InlineKeyboardButton(t(ui_lang, "button_back"), callback_data=f"m:c:{entry.category}"),
                 InlineKeyboardButton(t(ui_lang, "button_menu"), callback_data="m:root")])
    return InlineKeyboardMarkup(rows)


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Русский", callback_data="l:ru"),
                                  InlineKeyboardButton("Қазақша", callback_data="l:kk"),
                                  InlineKeyboardButton("English", callback_data="l:en")]])


def rating_keyboard(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(str(n), callback_data=f"r:{ticket_id}:{n}") for n in range(1, 6)]])


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


def card(ticket: Ticket, first_name: str, kb: KnowledgeBase, zone=None, *, answered: tuple[str, dt.datetime] | None = None) -> str:
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
    if answered:
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
        row.append(InlineKeyboardButton(t(locales.GROUP, "button_take"), callback_data=f"t:{ticket.id}"))
    if ticket.is_open:
        row.append(InlineKeyboardButton(t(locales.GROUP, "button_close"), callback_data=f"z:{ticket.id}"))
    if answered:
        row.append(InlineKeyboardButton(t(locales.GROUP, "button_draft"), callback_data=f"d:{ticket.id}"))
    return InlineKeyboardMarkup([row]) if row else None


def age(created_at: dt.datetime, now: dt.datetime) -> str:
    minutes = int((now - created_at).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} мин"
    if minutes < 48 * 60:
        return f"{minutes // 60} ч {minutes % 60} мин"
    return f"{minutes // 1440} дн"
