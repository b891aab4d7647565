"""Personal data: masked before it is stored or shown to librarians; the citizen is told once; /forget."""

from __future__ import annotations

import itertools

import datetime as dt

from bot.telegram_ui.jobs import purge_job

from .harness import AIGUL, GROUP_ID, TG, group, ru

CITIZEN = AIGUL["id"]
IIN = "900101300126"  # passes the ИИН check digit
CARD = "4111 1111 1111 1111"  # passes Luhn


async def test_numbers_are_masked_in_the_ticket_card_and_log_and_the_citizen_is_told_once(tg: TG) -> None:
    await tg.say(AIGUL, f"мой иин {IIN}, карта {CARD}, почему не приходит пенсия на эту карту в банке")
    texts = tg.texts(CITIZEN)
    assert texts[0] == ru("privacy_warning")
    card = tg.card(1).text
    assert IIN not in card and "1111 1111" not in card and "[ИИН]" in card
    stored = tg.sql("SELECT question FROM tickets") + tg.sql("SELECT question FROM questions")
    assert all(IIN not in q and "4111" not in q for (q,) in stored), stored

    tg.clear()
    await tg.say(AIGUL, f"и ещё про погоду в темиртау, мой иин {IIN}")  # a follow-up: masked, no second warning
    assert ru("privacy_warning") not in tg.texts(CITIZEN)
    relayed = [c.text for c in tg.sent(GROUP_ID)]
    assert relayed and all(IIN not in text for text in relayed)


async def test_forget_asks_then_deletes_and_keeps_tickets_only_anonymised(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    await tg.say(AIGUL, "какая погода завтра в темиртау")
    await tg.say(AIGUL, "и ещё один вопрос")
    await tg.cmd(AIGUL, "/forget")
    confirm = tg.last_message(CITIZEN)
    assert tg.last(CITIZEN).buttons == ["g:yes", "g:no"]
    assert tg.sql("SELECT count(*) FROM questions") == [(3,)]  # the follow-up is logged; nothing deleted yet

    await tg.press(AIGUL, "g:yes", confirm)

    assert tg.texts(CITIZEN)[-1] == ru("forget_done")
    assert tg.sql("SELECT count(*) FROM questions") == [(0,)]
    assert tg.sql("SELECT count(*) FROM ticket_messages") == [(0,)]
    assert tg.sql("SELECT status, question FROM tickets") == [("withdrawn", "[удалено по просьбе жителя]")]
    # The old row is anonymised; the chat starts afresh, keeping only the interface language.
    assert tg.sql("SELECT channel, first_name FROM citizens ORDER BY id") == [("forgotten", ""), ("telegram", "")]
    [(card_id,)] = tg.sql("SELECT card_message_id FROM tickets")
    redrawn = tg.card_edits(1, card_id)[-1]  # at once: the librarians see the question is gone
    assert group("card_forgotten") in redrawn.text and redrawn.buttons == []
    assert "погода" not in redrawn.text


async def test_forget_keeps_the_interface_language(tg: TG) -> None:
    await tg.cmd(AIGUL, "/lang")
    await tg.press(AIGUL, "l:kk", tg.last_message(CITIZEN))
    await tg.cmd(AIGUL, "/forget")
    await tg.press(AIGUL, "g:yes", tg.last_message(CITIZEN))
    await tg.say(AIGUL, "егов ашылмайды")  # no Kazakh letters, no decisive word: the interface language decides
    assert (await tg.citizen(AIGUL)).language == "kk"
    kb = tg.helpdesk.knowledge.kb
    assert tg.last(CITIZEN).text.startswith(f"<b>{kb.entry('egov-registration').title['kk']}</b>")


async def test_forget_declined_deletes_nothing(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    await tg.cmd(AIGUL, "/forget")
    await tg.press(AIGUL, "g:no", tg.last_message(CITIZEN))
    assert tg.texts(CITIZEN)[-1] == ru("forget_kept")
    assert tg.sql("SELECT count(*) FROM questions") == [(1,)]


async def test_purge_job_deletes_old_question_log_rows(tg: TG) -> None:
    await tg.say(AIGUL, "как получить эцп")
    await tg.say(AIGUL, "как продлить эцп")
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=tg.settings.query_log_days + 1)).replace(tzinfo=None)
    tg.sql("UPDATE questions SET created_at = ? WHERE id = 1", old.isoformat(sep=" "))

    class Context:  # the job needs only the application's data
        helpdesk = tg.helpdesk
        settings = tg.settings

    await purge_job(Context())
    assert tg.sql("SELECT id FROM questions") == [(2,)]


async def test_flood_is_slowed_down_once_and_nothing_is_processed_twice(tg: TG) -> None:
    for _ in range(12):
        await tg.say(AIGUL, "как получить эцп")
    texts = tg.texts(CITIZEN)
    assert texts.count(ru("slow_down", limit=10)) == 1
    assert texts.count(ru("slow_down_again")) == 1
    assert tg.sql("SELECT count(*) FROM questions") == [(10,)]


async def test_fifteen_questions_in_a_minute_are_each_answered_or_declined(tg: TG) -> None:
    """Every message gets a reply quoting it: an answer, or "not processed, send it again"."""
    questions = [f"как получить эцп {n}" for n in range(15)]
    sent = [await tg.say(AIGUL, q) for q in questions]
    replies = {}
    for call in tg.sent(CITIZEN):
        quoted = (call.params.get("reply_parameters") or {}).get("message_id")
        replies.setdefault(int(quoted), []).append(call.text)
    for n, update in enumerate(sent):
        got = replies.get(update["message_id"], [])
        if n < 10:
            assert got and "ЭЦП" in got[0], (n, got)
        else:
            assert got == [ru("slow_down", limit=10) if n == 10 else ru("slow_down_again")], (n, got)
    assert "минуту" in ru("slow_down", limit=10) and "ещё раз" in ru("slow_down", limit=10)


async def test_button_presses_do_not_count_towards_the_flood_limit(tg: TG) -> None:
    """A 12-step walkthrough tapped through quickly shows every step, and the next question is answered."""
    entry = next(e for e in tg.helpdesk.knowledge.kb.entries if e.steps and len(e.steps["ru"]) >= 3)
    await tg.say(AIGUL, entry.questions["ru"][0])
    message = tg.last_message(CITIZEN)
    for n in range(12):
        step = min(n % len(entry.steps["ru"]) + 1, len(entry.steps["ru"]))
        await tg.press(AIGUL, f"s:{entry.id}:{step}", message)
    steps = [c for c in tg.calls if c.chat_id == CITIZEN and c.method in ("sendMessage", "editMessageText")]
    assert len([c for c in steps if "Шаг" in c.text or "Step" in c.text]) >= 11
    await tg.say(AIGUL, "как получить эцп")
    assert ru("slow_down", limit=10) not in tg.texts(CITIZEN)
    assert tg.last(CITIZEN).buttons[0].startswith("f:y:")


async def test_flood_control_counts_over_two_instances(make_tg) -> None:
    """Behind a load balancer a citizen's messages reach both instances: the limit holds for the sum."""
    first, second = await make_tg(database="shared"), await make_tg(database="shared")
    second._update_ids = itertools.count(1000)  # Telegram numbers updates once, whichever instance gets them
    for n in range(12):
        await (first if n % 2 else second).say(AIGUL, "как получить эцп")
    texts = first.texts(CITIZEN) + second.texts(CITIZEN)
    assert texts.count(ru("slow_down", limit=10)) == 1
    assert first.sql("SELECT count(*) FROM questions") == [(10,)]


async def test_a_fourth_open_question_joins_the_newest_ticket(tg: TG) -> None:
    await tg.escalate(AIGUL, "какая погода завтра в темиртау")
    for entry, step in (("eds-obtain", 1), ("eds-obtain", 2), ("eds-obtain", 3)):
        await tg.press(AIGUL, f"x:{entry}:{step}", tg.last_message(CITIZEN))
    assert tg.sql("SELECT count(*) FROM tickets WHERE status = 'open'") == [(3,)]
    assert tg.texts(CITIZEN)[-1] == ru("follow_up", number=3)
    assert tg.sql("SELECT ticket_id FROM ticket_messages") == [(3,)]


async def test_the_same_update_twice_is_handled_once(tg: TG) -> None:
    update = tg.private_text(AIGUL, "какая погода завтра в темиртау")
    await tg.feed(update)
    await tg.feed(update)  # a webhook retry, or the other instance got it too
    assert tg.sql("SELECT count(*) FROM tickets") == [(1,)]
    assert len(tg.texts(CITIZEN)) == 1
