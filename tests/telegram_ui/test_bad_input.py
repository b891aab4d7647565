"""Hostile and odd input: every update gets the right outcome and none is an unhandled error or a lost ticket.

Each case is one update fed through the real handler table (see tg_harness.py). The outcome is one of:
a clear reply to the citizen (an answer, a ticket, a follow-up or a short text), a short note in the
librarians' group, a polite answerCallbackQuery, or nothing at all (no Bot API call). After every case:
the harness's error collector is empty, the tickets table exists, a ticket that was open before is still
open with its question and every message it had (all delivered), no phone number reached the group, and
no HTML message carries a raw <script>.

Most cases start with an open ticket (#1, card posted) so that "nothing is lost" is checked on the way.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from bot import locales

from .harness import (AIGUL, BOLAT, BOT_USER, ERZHAN, GROUP_ID, JSON, MARIA, OTHER_GROUP_ID, TG, chat_dict, group,
                      plain, ru)

CITIZEN = AIGUL["id"]
QUESTION = "какая погода завтра в темиртау"  # unmatched: becomes ticket #1 in the cases that start with one
PHONE = "7011234567"  # the harness's contact card carries +77011234567

WORDS = "скажите пожалуйста какая погода будет завтра в темиртау и нужно ли брать с собой зонт".split()


def russian_text(length: int) -> str:
    """Russian words up to exactly `length` characters (no trailing space)."""
    words: list[str] = []
    while len(" ".join(words)) < length:
        words.append(WORDS[len(words) % len(WORDS)])
    text = " ".join(words)[:length]
    return text[:-1] + "т" if text.endswith(" ") else text


LONG_END = " и последнее: где забрать готовую справку о пенсионных отчислениях"  # occurs once, at the end
LONG = russian_text(4096 - len(LONG_END)) + LONG_END
assert len(LONG) == 4096 and LONG.count(LONG_END) == 1


# --- update factories the harness does not have --------------------------------------------------
# They use the harness's own _message/_update, so message ids and the stored messages stay consistent.


def private_reply(tg: TG, user: JSON, text: str, reply_to: JSON) -> JSON:
    """The citizen replies (Telegram's Reply) to an older message in their chat."""
    target = copy.deepcopy(reply_to)
    target.pop("reply_to_message", None)
    return tg._update("message", tg._message(tg.private_chat(user), user, text=text, reply_to_message=target))


def private_content(tg: TG, user: JSON, **content: object) -> JSON:
    return tg._update("message", tg._message(tg.private_chat(user), user, **content))


def dice(tg: TG, user: JSON) -> JSON:
    return private_content(tg, user, dice={"emoji": "🎲", "value": 3})


def venue(tg: TG, user: JSON) -> JSON:
    # Telegram sends a venue together with its location.
    location = {"latitude": 50.0667, "longitude": 72.9667}
    return private_content(tg, user, location=location, venue={
        "location": location, "title": "<b>Кафе</b>", "address": "ул. Мира, 1"})


def edited_command(tg: TG, user: JSON, text: str) -> JSON:
    message = tg._message(tg.private_chat(user), user, text=text,
                          entities=[{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}])
    return tg._update("edited_message", dict(message, edit_date=int(time.time())))


def edited_group_reply(tg: TG, librarian: JSON, text: str, reply_to: int) -> JSON:
    update = tg.group_reply(librarian, text, reply_to)
    return {"update_id": update["update_id"], "edited_message": dict(update["message"], edit_date=int(time.time()))}


def moved(message: JSON, chat: JSON) -> JSON:
    """The same message as if it were in another chat (a forged or misrouted callback)."""
    return dict(copy.deepcopy(message), chat=chat)


# --- what the database holds before and after ----------------------------------------------------


@dataclass
class Snapshot:
    tickets: dict[int, tuple]                    # id -> (status, question, taken_by)
    messages: dict[int, list[tuple]]             # ticket id -> [(direction, text, media)]
    dump: dict[str, list[tuple]] = field(default_factory=dict)  # every row of every table

    @classmethod
    def take(cls, tg: TG) -> "Snapshot":
        tickets = {row[0]: tuple(row[1:]) for row in tg.sql("SELECT id, status, question, taken_by FROM tickets")}
        messages: dict[int, list[tuple]] = {}
        for ticket_id, direction, text, media in tg.sql(
                "SELECT ticket_id, direction, text, media FROM ticket_messages ORDER BY id"):
            messages.setdefault(ticket_id, []).append((direction, text, media))
        # processed_updates records every update id by design (duplicates are dropped): not a change of data.
        names = [row[0] for row in tg.sql("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                 if row[0] != "processed_updates"]
        dump = {name: tg.sql(f'SELECT * FROM "{name}" ORDER BY rowid') for name in names}
        return cls(tickets, messages, dump)

    def open_ids(self) -> list[int]:
        return [i for i, (status, _, _) in self.tickets.items() if status in ("open", "taken")]


def assert_nothing_lost(tg: TG, before: Snapshot) -> None:
    """The invariants of every case."""
    assert tg.errors == [], f"unhandled errors: {tg.errors!r}"
    assert tg.sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tickets'"), "tickets table gone"
    after = Snapshot.take(tg)
    for ticket_id in before.open_ids():
        assert after.tickets[ticket_id][:2] == before.tickets[ticket_id][:2], f"ticket #{ticket_id} changed"
        old = before.messages.get(ticket_id, [])
        assert after.messages.get(ticket_id, [])[: len(old)] == old, f"messages of ticket #{ticket_id} lost"
    undelivered = tg.sql("SELECT id, ticket_id, text FROM ticket_messages WHERE delivered = 0")
    assert undelivered == [], f"messages left undelivered: {undelivered}"
    for call in tg.calls:
        if call.chat_id == GROUP_ID:
            assert PHONE not in json.dumps(call.params, ensure_ascii=False), f"a phone number reached the group: {call}"
        if call.params.get("parse_mode") == "HTML":
            assert "<script" not in call.params.get("text", "").lower(), f"raw <script> in an HTML message: {call}"
        assert len(call.text) <= 4096, f"{call.method} over Telegram's limit ({len(call.text)} characters)"


# --- expected outcomes ----------------------------------------------------------------------------

Check = Callable[[TG, Snapshot, JSON], Awaitable[None]]
Text = str | Callable[[str], bool]


def input_text(update: JSON) -> str:
    message = update.get("message") or update.get("edited_message") or {}
    return message.get("text") or message.get("caption") or ""


def no_new_tickets_or_messages(tg: TG, before: Snapshot) -> None:
    after = Snapshot.take(tg)
    assert after.tickets.keys() == before.tickets.keys(), "a ticket was opened"
    assert after.messages == before.messages, "a message was added to a ticket"


def says(*expected: Text) -> Check:
    """The citizen gets exactly these texts; the group gets nothing; no ticket or ticket message appears."""

    async def check(tg: TG, before: Snapshot, update: JSON) -> None:
        texts = tg.texts(CITIZEN)
        assert len(texts) == len(expected), f"expected {len(expected)} replies, got {texts}"
        for text, want in zip(texts, expected):
            assert want(text) if callable(want) else text == want, f"unexpected reply {text[:200]!r}"
        assert [c for c in tg.calls if c.chat_id == GROUP_ID] == [], "something reached the group"
        no_new_tickets_or_messages(tg, before)

    return check


def starts(prefix: str, *contains: str) -> Callable[[str], bool]:
    return lambda text: text.startswith(prefix) and all(part in text for part in contains)


def answered(entry_id: str = "eds-obtain") -> Check:
    """Answered from the knowledge base: one answer with the feedback buttons, nothing for the librarians."""

    async def check(tg: TG, before: Snapshot, update: JSON) -> None:
        (answer,) = tg.sent(CITIZEN)
        title = tg.helpdesk.entry(entry_id).title["ru"]
        assert answer.text.startswith(f"<b>{title}</b>"), answer.text[:200]
        assert answer.buttons[:2] == [f"f:y:{entry_id}", f"f:n:{entry_id}"]
        assert [c for c in tg.calls if c.chat_id == GROUP_ID] == []
        no_new_tickets_or_messages(tg, before)

    return check


CardCheck = Callable[[TG, object, str], None]


def new_ticket(*extra: CardCheck) -> Check:
    """A new ticket with the whole text as its question: the citizen is told its number, its card is posted."""

    async def check(tg: TG, before: Snapshot, update: JSON) -> None:
        new = sorted(set(Snapshot.take(tg).tickets) - set(before.tickets))
        assert len(new) == 1, f"expected one new ticket, got {new}; replies: {tg.texts(CITIZEN)}"
        ticket = await tg.ticket(new[0])
        assert ticket.status == "open"
        assert ticket.question == input_text(update).strip(), "the question was not stored as written"
        (told,) = tg.texts(CITIZEN)
        assert told.startswith(ru("escalated", number=ticket.id)), told
        card = tg.card(ticket.id)
        assert card.params["parse_mode"] == "HTML"
        for more in extra:
            more(tg, ticket, card.params["text"])

    return check


def followed_up(media: str | None = None) -> Check:
    """Added to the open ticket #1: the citizen is told so and the librarians got it, replying to the card."""

    async def check(tg: TG, before: Snapshot, update: JSON) -> None:
        assert tg.texts(CITIZEN) == [ru("follow_up", number=1)]
        after = Snapshot.take(tg)
        assert after.tickets.keys() == before.tickets.keys(), "a ticket was opened instead"
        added = after.messages[1][len(before.messages.get(1, [])):]
        assert added == [("citizen", input_text(update).strip() if media is None else input_text(update), media)]
        card_id = (await tg.ticket(1)).card_message_id
        method = "sendMessage" if media is None else "copyMessage"
        sent = tg.sent(GROUP_ID, method)
        assert sent, "nothing reached the librarians"
        assert int(sent[0].params["reply_parameters"]["message_id"]) == card_id

    return check


def text_reaches_group_whole(tg: TG, before: Snapshot, update: JSON) -> None:
    """The start and the end of the citizen's text are in the group (in one message or split over several)."""
    value = input_text(update)
    delivered = [plain(c.text, c.params.get("parse_mode")) for c in tg.sent(GROUP_ID)]  # as the librarians read it
    assert any(value[:200] in text for text in delivered), "the start of the text did not reach the librarians"
    assert any(value[-100:] in text for text in delivered), "the end of the text did not reach the librarians"


def then(first: Check, *more: Callable[[TG, Snapshot, JSON], None]) -> Check:
    """The outcome `first`, and these further checks."""

    async def check(tg: TG, before: Snapshot, update: JSON) -> None:
        await first(tg, before, update)
        for extra in more:
            extra(tg, before, update)

    return check


def one_of(*checks: Check) -> Check:
    """Any of these outcomes is right (e.g. a ticket or a polite reply)."""

    async def check(tg: TG, before: Snapshot, update: JSON) -> None:
        failures = []
        for candidate in checks:
            try:
                await candidate(tg, before, update)
                return
            except AssertionError as error:
                failures.append(str(error).splitlines()[0])
        raise AssertionError(f"no acceptable outcome: {failures}")

    return check


def silent() -> Check:
    """Ignored: no Bot API call at all and no change in the database."""

    async def check(tg: TG, before: Snapshot, update: JSON) -> None:
        assert tg.calls == [], [(c.method, c.chat_id, c.text[:60]) for c in tg.calls]
        assert Snapshot.take(tg).dump == before.dump, "the database changed"

    return check


def noted() -> Check:
    """A short "not a ticket" note in the group, replying to the librarian; nothing else, nothing stored."""

    async def check(tg: TG, before: Snapshot, update: JSON) -> None:
        (note,) = tg.calls
        assert (note.method, note.chat_id, note.text) == ("sendMessage", GROUP_ID, group("reply_not_ticket"))
        assert int(note.params["reply_parameters"]["message_id"]) == update["message"]["message_id"]
        assert Snapshot.take(tg).dump == before.dump, "the database changed"

    return check


def card_escapes_html(tg: TG, ticket, card: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert "&lt;b&gt;налог&lt;/b&gt;" in card and "&amp;amp;" in card
    assert "<script" not in card and "<b>" not in card
    assert tg.request.message(GROUP_ID, ticket.card_message_id)["text"].count("<script>alert(1)</script>") == 1


def card_shows_markdown_as_is(tg: TG, ticket, card: str) -> None:
    assert "*погода* `завтра` [темиртау](http://x)" in card


def card_within_limits(tg: TG, ticket, card: str) -> None:
    assert len(card) <= 4096
    assert LONG[:1000] in card  # the start of the question is on the card


# --- running one case -----------------------------------------------------------------------------

Factory = Callable[[TG], Awaitable[JSON]]


@dataclass(frozen=True)
class Case:
    make: Factory         # builds the update (and whatever it needs first)
    expect: Check
    ticket: bool = True   # the citizen (Aigul) has an open ticket #1 before the input


async def run(tg: TG, case: Case) -> None:
    if case.ticket:
        assert (await tg.escalate(AIGUL, QUESTION)).id == 1
    update = await case.make(tg)
    tg.clear()
    before = Snapshot.take(tg)
    await tg.feed(update)
    assert_nothing_lost(tg, before)
    await case.expect(tg, before, update)


def text(value: str) -> Factory:
    async def make(tg: TG) -> JSON:
        return tg.private_text(AIGUL, value)
    return make


def command(value: str, user: JSON = AIGUL, chat_id: int | None = None) -> Factory:
    async def make(tg: TG) -> JSON:
        return tg.command(user, value, chat_id)
    return make


def fixed(reason: str):
    """A bug these cases found and that is fixed: kept as the reason the case exists (no marker)."""
    return ()


def case(id_: str, make: Factory, expect: Check, *, ticket: bool = True, marks=()):
    return pytest.param(Case(make, expect, ticket), id=id_, marks=marks)


# --- 1. free text in a private chat ---------------------------------------------------------------

BUG_INVISIBLE_FOLLOW_UP = fixed(
    "bot/helpdesk.py HelpDesk.ask (`if open_tickets and question:`): only str.strip() decides that a message is "
    "blank, so zero-width or control characters alone become a follow-up: the citizen hears 'Добавил это к "
    "вашему вопросу' and the librarians get '#1 · Айгуль: \\u200b\\u200b' (an empty-looking message); whitespace "
    "alone gets no_words as intended")
BUG_LONG_FOLLOW_UP = fixed(
    "bot/telegram_ui/delivery.py _to_group: the header '#N · name: ' plus a 4096-character citizen message is "
    "clipped by render.clip to 4000 characters, so the librarians never see the last ~110 characters (the "
    "database keeps them)")
BUG_LONG_CARD = fixed(
    "bot/telegram_ui/render.py card(): the question is clipped to 1500 characters (clip(ticket.question, 1500)) "
    "and the rest is sent nowhere else, so of a 4096-character question the librarians see only the first "
    "1499 characters and '…' (the database keeps it all; perhaps a deliberate card size, but text is lost)")
BUG_COMBINING_DIAERESIS = fixed(
    "bot/text.py clean(): NFKC runs before combining marks are dropped, so 'у'+U+0308 becomes the precomposed "
    "'ӱ' and survives ('stray accents are noise' is not applied): 'как полу\\u0308чить эцп' is escalated "
    "instead of answered")
BUG_EMPTY_TEXT = fixed(
    "bot/telegram_ui/application.py: a message with text '' is not filters.TEXT, so it reaches citizen.media as "
    "kind 'file'; with an open ticket it is copied to the librarians as '#1 · Айгуль прислал(а) file' and the "
    "citizen hears 'Добавил это к вашему вопросу' (Telegram itself never sends empty text: low severity)")


def html_heavy(length: int) -> str:
    """`length` characters full of <, > and & (html.escape makes them 2.8 times longer), with a unique end."""
    end = " и в конце: где справка?"
    return ("<b>&</b> " * length)[: length - len(end)] + end


BUG_ESCAPED_CLIP = fixed(
    "render.clip runs on the HTML-escaped text: bot/telegram_ui/delivery.py _to_group "
    "(render.clip(escape(text))) and render.card (clip of the escaped lines) measure '&amp;' as 5 characters, so "
    "a 2000-character message full of <, >, & is cut to a fraction for the librarians (and the cut can fall "
    "inside an entity like '&am…')")

TEXT_CASES = [
    case("empty-no-ticket", text(""), one_of(says(ru("no_words")), says(ru("media_without_ticket"))), ticket=False),
    case("empty-with-ticket", text(""), one_of(says(ru("no_words")), says(ru("media_without_ticket"))),
         marks=BUG_EMPTY_TEXT),
    case("whitespace-only", text("   \n\t  "), says(ru("no_words")), ticket=False),
    case("whitespace-only-with-ticket", text("   \n\t  "), says(ru("no_words"))),
    case("long-4096-russian-new-ticket", text(LONG), new_ticket(card_within_limits), ticket=False),
    case("long-4096-russian-new-ticket-whole-to-group", text(LONG),
         then(new_ticket(), text_reaches_group_whole), ticket=False, marks=BUG_LONG_CARD),
    case("long-4096-russian-follow-up", text(LONG), then(followed_up(), text_reaches_group_whole),
         marks=BUG_LONG_FOLLOW_UP),
    case("one-4096-letter-word", text("ы" * 4096), one_of(new_ticket(), says(ru("no_words"))), ticket=False),
    case("zero-width-inside-question", text("как\u200b получить\ufeff эцп"), answered(), ticket=False),
    case("zero-width-only", text("\u200b\ufeff\u200b"), says(ru("no_words")), ticket=False),
    case("zero-width-only-with-ticket", text("\u200b\ufeff\u200b"), says(ru("no_words")),
         marks=BUG_INVISIBLE_FOLLOW_UP),
    case("control-chars-in-question", text("как получить эцп\x00\x07\x1b\x7f"), answered(), ticket=False),
    case("control-chars-only-with-ticket", text("\x07\x1b\x00"), says(ru("no_words")), marks=BUG_INVISIBLE_FOLLOW_UP),
    case("rtl-arabic", text("كيف أحصل على التوقيع الإلكتروني؟"), says(ru("no_words")), ticket=False),
    case("rtl-hebrew", text("איך מקבלים חתימה דיגיטלית?"), says(ru("no_words")), ticket=False),
    case("rtl-arabic-with-ticket", text("كيف أحصل على التوقيع الإلكتروني؟"), followed_up()),
    case("rtl-override-in-russian", text("\u202eкак получить эцп\u202c"), answered(), ticket=False),
    case("combining-stress-marks", text("ка\u0301к получи\u0301ть эцп"), answered(), ticket=False),
    case("combining-zalgo", text("к\u0334а\u0335к п\u0336о\u0337л\u0338учить эцп"), answered(), ticket=False),
    case("combining-diaeresis-over-u", text("как полу\u0308чить эцп"), answered(), ticket=False,
         marks=BUG_COMBINING_DIAERESIS),
    case("emoji-only", text("😀🔥"), says(ru("no_words")), ticket=False),
    case("emoji-only-with-ticket", text("😀🔥"), followed_up()),
    case("thanks-emoji", text("👍🏽"), says(ru("thanks_reply")), ticket=False),
    case("thanks-emoji-with-ticket", text("🙏"), says(ru("thanks_reply"))),
    case("thanks-with-ticket", text("большое спасибо за помощь"), says(ru("thanks_reply"))),
    case("greeting-with-intent", text("Здравствуйте, у меня вопрос"), says(ru("greeting_reply")), ticket=False),
    case("greeting-with-intent-with-ticket", text("Сәлеметсіз бе, менің сұрағым бар"),
         says(locales.text("kk", "greeting_reply"))),
    case("bare-digit", text("3"), says(ru("digits_hint")), ticket=False),
    case("bare-digit-with-ticket", text("3"), says(ru("digits_hint"))),
    case("long-number", text("123456"), says(ru("digits_hint")), ticket=False),
    case("emoji-around-question", text("🙏 как получить эцп? 🙏🏽"), answered(), ticket=False),
    case("html-in-new-ticket", text("<script>alert(1)</script> <b>налог</b> &amp; погода в темиртау"),
         new_ticket(card_escapes_html), ticket=False),
    case("html-in-follow-up", text("<script>alert(1)</script> & <i>ещё</i>"), followed_up()),
    case("html-heavy-follow-up-whole-to-group", text(html_heavy(2000)),
         then(followed_up(), text_reaches_group_whole),
         marks=BUG_ESCAPED_CLIP),
    case("html-heavy-new-ticket-whole-card", text(html_heavy(1500)),
         then(new_ticket(), text_reaches_group_whole),
         ticket=False, marks=BUG_ESCAPED_CLIP),
    case("markdown", text("*погода* `завтра` [темиртау](http://x)"), new_ticket(card_shows_markdown_as_is),
         ticket=False),
    case("sql-injection", text("'; DROP TABLE tickets; --"), one_of(new_ticket(), says(ru("no_words"))),
         ticket=False),
    case("sql-injection-with-ticket", text("1; DELETE FROM ticket_messages; --"), followed_up()),
    case("slash-only-text", text("/"), says(ru("no_words")), ticket=False),
]


@pytest.mark.parametrize("case", TEXT_CASES)
async def test_private_text(tg: TG, case: Case) -> None:
    await run(tg, case)


async def test_reply_to_an_old_bot_message_is_a_normal_question(tg: TG) -> None:
    """A citizen replying (Reply) to the bot's old greeting: answered as if typed fresh."""
    await tg.cmd(AIGUL, "/start")
    (greeting,) = [m for (chat, _), m in tg.request.messages.items()
                   if chat == CITIZEN and m.get("from") == BOT_USER and m["text"].startswith(ru("greeting"))]

    async def make(tg: TG) -> JSON:
        return private_reply(tg, AIGUL, "как получить эцп", greeting)

    await run(tg, Case(make, answered(), ticket=False))


async def test_reply_to_an_old_bot_message_with_a_ticket_is_a_follow_up(tg: TG) -> None:
    async def make(tg: TG) -> JSON:
        return private_reply(tg, AIGUL, "а ещё вопрос про пенсию", tg.last_message(CITIZEN))

    await run(tg, Case(make, followed_up()))


# --- 2. commands in a private chat ----------------------------------------------------------------

START = (ru("greeting") + "\n\n" + ru("start_menu_hint"), ru("menu_title"))

COMMAND_CASES = [
    case("start-junk-args", command("/start junk <b>args</b> 💥"), says(*START)),
    case("start-deep-link-junk", command("/start " + "Zm9v_-" * 10), says(*START)),
    case("menu-junk", command("/menu junk junk"), says(ru("menu_title"))),
    case("menu-upper-case", command("/MENU"), says(ru("menu_title"))),
    case("menu-at-this-bot", command(f"/menu@{BOT_USER['username']}"), says(ru("menu_title"))),
    case("where-500-chars-junk", command("/where " + ("абв" * 200)[:500]),
         says(ru("where_town_missing", town=("абв" * 20)))),
    case("where-500-chars-town-repeated", command("/where " + ("Темиртау-" * 60)[:500]),
         says(starts(ru("where_found"), "Темиртау"))),
    case("where-emoji", command("/where 🏠🏛️📍"), says(ru("where_town_missing", town="🏠🏛️📍"))),
    case("where-html", command("/where <script>alert(1)</script>"),
         says(ru("where_town_missing", town="<script>alert(1)</script>"))),
    case("where-at-this-bot-town", command(f"/where@{BOT_USER['username']} Темиртау"),
         says(starts(ru("where_found"), "Темиртау"))),
    case("cancel-abc", command("/cancel abc"), says(ru("cancel_missing", number="abc"))),
    case("cancel-minus-1", command("/cancel -1"), says(ru("cancel_missing", number="-1"))),
    case("cancel-0", command("/cancel 0"), says(ru("cancel_missing", number="0"))),
    case("cancel-huge", command("/cancel 99999999999999999999"),
         says(ru("cancel_missing", number="99999999999999999999"))),
    case("cancel-hash-html", command("/cancel #<b>1</b>"), says(ru("cancel_missing", number="<b>1</b>"))),
    case("cancel-other-citizens-ticket", command("/cancel 1", user=BOLAT),
         lambda tg, before, update: _bolat_told(tg, before, ru("cancel_missing", number="1"))),
    case("status-junk", command("/status junk"), says(starts(ru("status_list"), f"#1 — {QUESTION}"))),
    case("status-junk-no-ticket", command("/status junk"), says(ru("status_none")), ticket=False),
    case("unknown-foo", command("/foo"), says(ru("unknown_command"))),
    case("start-at-other-bot", command("/start@other_bot"), says(ru("unknown_command"))),
    case("take-in-private", command("/take 1"), says(ru("librarian_only"))),
    case("close-in-private", command("/close 1"), says(ru("librarian_only"))),
    case("reload-by-citizen", command("/reload"), says(ru("editors_only"))),
]


async def _bolat_told(tg: TG, before: Snapshot, text: str) -> None:
    assert tg.texts(BOLAT["id"]) == [text]
    assert tg.texts(CITIZEN) == [] and [c for c in tg.calls if c.chat_id == GROUP_ID] == []
    no_new_tickets_or_messages(tg, before)


@pytest.mark.parametrize("case", COMMAND_CASES)
async def test_private_command(tg: TG, case: Case) -> None:
    await run(tg, case)


# --- 3. media and other non-text messages in a private chat ---------------------------------------


def media(kind: str, caption: str | None = None) -> Factory:
    async def make(tg: TG) -> JSON:
        return tg.media(AIGUL, kind, caption=caption)
    return make


def location(latitude: float, longitude: float) -> Factory:
    async def make(tg: TG) -> JSON:
        return tg.location(AIGUL, latitude, longitude)
    return make


def factory(build: Callable[[TG, JSON], JSON]) -> Factory:
    async def make(tg: TG) -> JSON:
        return build(tg, AIGUL)
    return make


def copied_without_parse_mode(tg: TG, before: Snapshot, update: JSON) -> None:
    (copied,) = tg.sent(GROUP_ID, "copyMessage")
    assert copied.params.get("parse_mode") is None  # the caption is shown as typed, never parsed as HTML
    assert "<script>x</script>" in copied.params["caption"]


NEAREST = starts(ru("where_nearest"))

MEDIA_CASES = [
    case("sticker", media("sticker"), says(ru("media_without_ticket")), ticket=False),
    case("sticker-with-ticket", media("sticker"), followed_up("sticker")),
    case("voice", media("voice"), says(ru("media_without_ticket")), ticket=False),
    case("voice-with-ticket", media("voice"), followed_up("voice")),
    case("photo", media("photo"), says(ru("media_without_ticket")), ticket=False),
    case("photo-html-caption-with-ticket", media("photo", caption="<script>x</script> скан"),
         then(followed_up("photo"), copied_without_parse_mode)),
    case("document", media("document"), says(ru("media_without_ticket")), ticket=False),
    case("document-with-ticket", media("document"), followed_up("document")),
    case("contact", media("contact"), says(ru("contact_not_sent")), ticket=False),
    case("contact-with-ticket-not-passed", media("contact"), says(ru("contact_not_sent"))),
    case("location", location(49.8047, 73.1094), says(NEAREST), ticket=False),
    case("location-with-ticket", location(49.8047, 73.1094), says(NEAREST)),
    case("location-null-island", location(0.0, 0.0), says(ru("where_far", km=100)), ticket=False),
    case("poll", media("poll"), says(ru("media_without_ticket")), ticket=False),
    case("dice", factory(dice), says(ru("media_without_ticket")), ticket=False),
    case("venue", factory(venue), says(NEAREST), ticket=False),
]


@pytest.mark.parametrize("case", MEDIA_CASES)
async def test_private_non_text(tg: TG, case: Case) -> None:
    await run(tg, case)


# --- 4. updates the bot ignores, and the librarians' group ----------------------------------------


def edited(value: str) -> Factory:
    async def make(tg: TG) -> JSON:
        return tg.edited(AIGUL, value)
    return make


def edited_cmd(value: str) -> Factory:
    async def make(tg: TG) -> JSON:
        return edited_command(tg, AIGUL, value)
    return make


def channel(value: str) -> Factory:
    async def make(tg: TG) -> JSON:
        return tg.channel_post(value)
    return make


def group_text(user: JSON, value: str, chat_id: int = GROUP_ID) -> Factory:
    async def make(tg: TG) -> JSON:
        return tg.group_text(user, value, chat_id)
    return make


def reply_to_card_in(chat_id: int) -> Factory:
    """A reply in another group to a message with the card's id (ids are per chat: it is not the card)."""
    async def make(tg: TG) -> JSON:
        card_id = (await tg.ticket(1)).card_message_id
        return tg.group_reply(MARIA, "ответ не туда", card_id, chat_id=chat_id)
    return make


def reply_to_queue_answer(**content) -> Factory:
    """A librarian replies to the bot's answer to /queue: a bot message that is not a ticket."""
    async def make(tg: TG) -> JSON:
        await tg.cmd(MARIA, "/queue", chat_id=GROUP_ID)
        queue = tg.last_message(GROUP_ID)
        return tg.group_reply(MARIA, "это ответ жителю", queue["message_id"], **content)
    return make


def reply_to_unknown_bot_message() -> Factory:
    async def make(tg: TG) -> JSON:
        return tg.group_reply(ERZHAN, "ответ на старое сообщение", 7777)  # a bot message the bot has no record of
    return make


def reply_to_a_human() -> Factory:
    async def make(tg: TG) -> JSON:
        chatter = tg.group_text(ERZHAN, "коллеги, кто сегодня дежурит?")
        await tg.feed(chatter)
        return tg.group_reply(MARIA, "я дежурю", chatter["message"]["message_id"])
    return make


def edited_reply_to_card() -> Factory:
    async def make(tg: TG) -> JSON:
        return edited_group_reply(tg, MARIA, "исправленный ответ", (await tg.ticket(1)).card_message_id)
    return make


STICKER = {"file_id": "st", "file_unique_id": "st", "type": "regular", "width": 512, "height": 512,
           "is_animated": False, "is_video": False}

IGNORED_CASES = [
    case("edited-message", edited("как получить эцп"), silent()),
    case("edited-cancel-command", edited_cmd("/cancel 1"), silent()),
    case("other-group-text", group_text(AIGUL, "как получить эцп", OTHER_GROUP_ID), silent()),
    case("other-group-start", command("/start", chat_id=OTHER_GROUP_ID), silent()),
    case("other-group-close-1", command("/close 1", user=MARIA, chat_id=OTHER_GROUP_ID), silent()),
    case("other-group-reply-to-card-id", reply_to_card_in(OTHER_GROUP_ID), silent()),
    case("channel-post", channel("Новости: как получить эцп"), silent()),
    case("channel-post-start", channel("/start"), silent()),
    case("channel-post-close-1", channel("/close 1"), silent()),
    case("group-librarian-not-a-reply", group_text(MARIA, "доброе утро, коллеги"), silent()),
    case("group-citizen-command", command("/start", user=AIGUL, chat_id=GROUP_ID), silent()),
    case("group-reply-to-a-human", reply_to_a_human(), silent()),
    case("group-edited-reply-to-card", edited_reply_to_card(), silent()),
]


@pytest.mark.parametrize("case", IGNORED_CASES)
async def test_ignored_without_an_api_call(tg: TG, case: Case) -> None:
    await run(tg, case)


NOTE_CASES = [
    case("reply-to-bot-queue-answer", reply_to_queue_answer(), noted()),
    case("sticker-reply-to-bot-queue-answer", reply_to_queue_answer(sticker=STICKER), noted()),
    case("reply-to-unknown-bot-message", reply_to_unknown_bot_message(), noted()),
]


@pytest.mark.parametrize("case", NOTE_CASES)
async def test_librarian_reply_to_a_bot_message_that_is_not_a_ticket(tg: TG, case: Case) -> None:
    await run(tg, case)


# --- 5. forged and stale callback data in a private chat ------------------------------------------

STALE = ru("stale_button")
JUNK_64 = "Ѫ" * 32  # 64 bytes of UTF-8, Telegram's limit for callback_data
assert len(JUNK_64.encode()) == 64

BUG_EMPTY_DATA = fixed(
    "bot/telegram_ui/application.py: CallbackQueryHandler(librarian_button, pattern=r'^[tzd]:') also takes "
    "callbacks without data (PTB's check_update returns True when data and game_short_name are both empty), "
    "so a citizen hears 'Эта команда работает только в группе библиотекарей.' instead of the stale-button text")
BUG_STUCK_STEP = fixed(
    "bot/telegram_ui/citizen.py button(), kind 'x': the step number is not checked against the entry's steps "
    "(s: clamps it, x: does not), so 'x:eds-obtain:999' opens a ticket with step=999 and the card says "
    "'Застрял на шаге 999' for a 9-step entry")


@dataclass(frozen=True)
class Press:
    data: str
    answer: str | None          # the answerCallbackQuery text ("" = a silent answer)
    replies: tuple[Text, ...] = ()  # what the citizen's chat gets besides the answer
    user: JSON = field(default_factory=lambda: AIGUL)


def press(id_: str, data: str, answer: str | None, *replies: Text, user: JSON = AIGUL, marks=()):
    return pytest.param(Press(data, answer, replies, user), id=id_, marks=marks)


FORGED = [
    press("t-abc", "t:abc", ru("librarian_only")),
    press("t-99999", "t:99999", ru("librarian_only")),
    press("z-empty", "z:", ru("librarian_only")),
    press("menu-category-nope", "m:c:nope", "", STALE),
    press("menu-entry-nope", "m:e:nope", "", STALE),
    press("menu-empty", "m:", "", STALE),
    press("clarify-nope", "c:nope", "", STALE),
    press("clarify-empty", "c:", "", STALE),
    press("feedback-no-entry", "f:y:", STALE),
    press("feedback-unknown-entry", "f:n:nope", STALE),
    press("step-999", "s:eds-obtain:999", "", starts("Как получить ЭЦП\nШаг 9 из 9")),
    press("step-minus-1", "s:eds-obtain:-1", STALE),
    press("step-abc", "s:eds-obtain:abc", STALE),
    press("stuck-unknown-entry", "x:nope:1", STALE),
    press("rate-9", "r:1:9", STALE),
    press("rate-abc", "r:abc", STALE),
    press("rate-open-ticket", "r:1:5", STALE),
    press("withdraw-999", "w:999", ru("cancel_missing", number="999")),
    press("withdraw-minus-1", "w:-1", ru("cancel_missing", number="-1")),
    press("withdraw-huge", "w:99999999999999999999", ru("cancel_missing", number="99999999999999999999")),
    press("withdraw-by-another-citizen", "w:1", ru("cancel_missing", number="1"), user=BOLAT),
    press("language-xx", "l:xx", ""),
    press("empty", "", STALE, marks=BUG_EMPTY_DATA),
    press("emoji", "💥", STALE),
    press("junk-64-bytes", JUNK_64, STALE),
    press("colons-only", ":::", STALE),
]


@pytest.mark.parametrize("forged", FORGED)
async def test_forged_callback_in_a_private_chat(tg: TG, forged: Press) -> None:
    """Pressed on the bot's menu message: one polite answer, nothing changes in the database."""
    await tg.escalate(AIGUL, QUESTION)
    user = forged.user
    await tg.cmd(user, "/menu")
    menu = tg.last_message(user["id"])
    tg.clear()
    before = Snapshot.take(tg)

    update = tg.callback(user, forged.data, menu)
    await tg.feed(update)

    assert_nothing_lost(tg, before)
    answer = tg.answer_to(update["callback_query"]["id"])
    assert (answer.get("text") or "") == forged.answer
    replies = tg.texts(user["id"])
    assert len(replies) == len(forged.replies), replies
    for got, want in zip(replies, forged.replies):
        assert want(got) if callable(want) else got == want, got[:200]
    assert [c for c in tg.calls if c.chat_id == GROUP_ID] == [], "the group was touched"
    assert Snapshot.take(tg).dump == before.dump, "the database changed"


async def test_stuck_button_with_a_step_the_entry_does_not_have(tg: TG) -> None:
    """'x:eds-obtain:999': refused as stale, or a ticket for a step the entry really has; never step 999."""
    await tg.cmd(AIGUL, "/menu")
    menu = tg.last_message(CITIZEN)
    tg.clear()
    before = Snapshot.take(tg)

    update = tg.callback(AIGUL, "x:eds-obtain:999", menu)
    await tg.feed(update)

    assert_nothing_lost(tg, before)
    steps = len(tg.helpdesk.entry("eds-obtain").steps["ru"])
    if tg.answer_to(update["callback_query"]["id"]).get("text") == STALE:
        assert Snapshot.take(tg).dump == before.dump
    else:
        (ticket,) = await tg.helpdesk.queue()
        assert ticket.kind == "stuck" and 1 <= ticket.step <= steps, f"step {ticket.step} of {steps}"
        assert f"шаге {ticket.step} " in tg.card(ticket.id).text


# --- 6. card buttons outside the librarians' group, and forged card data inside it ----------------

WHERE = {
    "private": lambda: {"id": MARIA["id"], "type": "private", "first_name": MARIA["first_name"]},
    "other-group": lambda: chat_dict(OTHER_GROUP_ID),
    "citizen-chat": lambda: {"id": CITIZEN, "type": "private", "first_name": AIGUL["first_name"]},
}


@pytest.mark.parametrize("data", ["t:1", "z:1", "d:1"])
@pytest.mark.parametrize("where", list(WHERE))
async def test_card_button_outside_the_group_is_refused(tg: TG, where: str, data: str) -> None:
    ticket = await tg.escalate(AIGUL, QUESTION)
    card = tg.request.message(GROUP_ID, (await tg.ticket(ticket.id)).card_message_id)
    tg.clear()
    before = Snapshot.take(tg)

    update = tg.callback(MARIA, data, moved(card, WHERE[where]()))
    await tg.feed(update)

    assert_nothing_lost(tg, before)
    answer = tg.answer_to(update["callback_query"]["id"])
    assert answer.get("text") == ru("librarian_only") and answer.get("show_alert") is True
    assert [c.method for c in tg.calls] == ["answerCallbackQuery"]
    assert Snapshot.take(tg).dump == before.dump


IN_GROUP = [  # the group's catalogue has no stale_button of its own: locales.text falls back to Russian
    pytest.param("t:abc", group("stale_button"), id="t-abc"),
    pytest.param("t:-1", group("stale_button"), id="t-minus-1"),
    pytest.param("z:", group("stale_button"), id="z-empty"),
    pytest.param("t:99999", group("ticket_missing", number=99999), id="t-99999"),
    pytest.param("z:99999", group("close_missing", number=99999), id="z-99999"),
    pytest.param("d:99999", group("draft_missing", number=99999), id="d-99999"),
    pytest.param("d:1", group("draft_missing", number=1), id="d-unanswered"),
]


@pytest.mark.parametrize(("data", "answer"), IN_GROUP)
async def test_forged_card_data_in_the_group(tg: TG, data: str, answer: str) -> None:
    ticket = await tg.escalate(AIGUL, QUESTION)
    card = tg.request.message(GROUP_ID, (await tg.ticket(ticket.id)).card_message_id)
    tg.clear()
    before = Snapshot.take(tg)

    update = tg.callback(ERZHAN, data, card)
    await tg.feed(update)

    assert_nothing_lost(tg, before)
    assert tg.answer_to(update["callback_query"]["id"]).get("text") == answer
    assert [c.method for c in tg.calls] == ["answerCallbackQuery"]
    assert Snapshot.take(tg).dump == before.dump
