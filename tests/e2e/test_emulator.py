"""The emulator speaks enough Bot API for a real python-telegram-bot 22 Application."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .emulator import BotApiEmulator


def post(emu: BotApiEmulator, method: str, body: bytes = b"", content_type: str = "application/json",
         token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"{emu.base_url}{token or emu.token}/{method}", data=body,
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


@asynccontextmanager
async def running(app: Application) -> AsyncIterator[Application]:
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def echo_app(emu: BotApiEmulator, retries: list[dt.timedelta]) -> Application:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ещё", callback_data="more")]])
        for _ in range(3):
            try:
                await update.effective_message.reply_text(f"echo: {update.effective_message.text}",
                                                          reply_markup=markup)
                return
            except RetryAfter as exc:  # PTB_TIMEDELTA=true (conftest): retry_after is a timedelta
                assert isinstance(exc.retry_after, dt.timedelta)
                retries.append(exc.retry_after)
                await asyncio.sleep(exc.retry_after.total_seconds())

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("ok")
        await query.edit_message_text(f"pressed {query.data}")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"start {context.args}")

    app = Application.builder().token(emu.token).base_url(emu.base_url) \
        .base_file_url(emu.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(more))
    return app


async def test_echo_button_and_retry_after_with_real_ptb(emulator: BotApiEmulator) -> None:
    retries: list[dt.timedelta] = []
    chat = emulator.private_chat(1001, "Айгерим")
    async with running(echo_app(emulator, retries)):
        asked = emulator.send_text(chat, None, "Привет")
        reply = await emulator.wait_for("echo: Привет", chat=chat, after=asked)
        assert reply["from"]["is_bot"] and reply["from"]["username"] == "egov_test_bot"
        assert reply["message_id"] == asked["message_id"] + 1
        assert reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more"
        assert isinstance(reply["date"], int) and abs(reply["date"] - time.time()) < 5

        query_id = emulator.press_button(chat, None, reply["message_id"], "more")
        await emulator.wait_for("pressed more", chat=chat)
        assert emulator.answered_callbacks == [{"callback_query_id": query_id, "text": "ok"}]
        edited = emulator.sent(chat)[-1]
        assert edited["message_id"] == reply["message_id"] and "reply_markup" not in edited

        emulator.fail_next("sendMessage", status=429, retry_after=1)
        second = emulator.send_text(chat, None, "снова", reply_to=reply["message_id"])
        assert second["reply_to_message"]["message_id"] == reply["message_id"]
        await emulator.wait_for("echo: снова", chat=chat, after=second)
        assert retries == [dt.timedelta(seconds=1)]
        assert len(emulator.calls_to("sendMessage")) == 3

        emulator.send_command(chat, None, "start", "deep-link")
        await emulator.wait_for("start ['deep-link']", chat=chat)


async def test_faults_surface_as_ptb_errors(emulator: BotApiEmulator) -> None:
    chat = emulator.private_chat(7, "Ерлан")
    async with Bot(emulator.token, base_url=emulator.base_url) as bot:
        assert (await bot.get_me()).username == "egov_test_bot"
        emulator.fail_next("sendMessage", status=500)
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(chat.id, "a")
        emulator.fail_next("sendMessage", status=403)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(chat.id, "b")
        emulator.block_user(chat)
        for _ in range(2):
            with pytest.raises(Forbidden):
                await bot.send_message(chat.id, "c")
        emulator.unblock_user(chat)
        emulator.delay_next("sendMessage", 1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(chat.id, "d", read_timeout=0.2)
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(999, "e")
        sent = await bot.send_message(chat.id, "f")
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("f", chat.id, sent.message_id)
        await bot.delete_message(chat.id, sent.message_id)
        assert await bot.set_my_commands([("start", "Начать")])
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
        assert await bot.send_chat_action(chat.id, "typing")
    # the delayed message was stored before the client gave up; the deleted one is hidden
    assert [m["text"] for m in emulator.sent(chat)] == ["d"]


async def test_injected_updates_parse_in_ptb(emulator: BotApiEmulator) -> None:
    chat = emulator.private_chat(5, "Данияр")
    group = emulator.group_chat(-100, "Группа")
    member = emulator.user(6, "Асель", "kk")
    news = emulator.channel(-200, "Новости")
    first = emulator.send_text(chat, None, "исходное")
    emulator.send_photo(chat, None, caption="скан")
    emulator.send_document(chat, None, "справка.pdf")
    emulator.send_voice(chat, None)
    emulator.send_sticker(chat, None)
    emulator.send_location(chat, None)
    emulator.send_contact(chat, None, "+77010000000")
    emulator.edited_message(chat, first["message_id"], "исправленное")
    emulator.send_command(group, member, "help", mention=True)
    emulator.channel_post(news, "пост")
    async with Bot(emulator.token, base_url=emulator.base_url) as bot:
        updates = await bot.get_updates(timeout=1)
        forwarded = await bot.forward_message(chat.id, news.id, 1)
        copied = await bot.copy_message(chat.id, chat.id, first["message_id"])
        assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert [u.update_id for u in updates] == list(range(1, 11))
    m = [u.effective_message for u in updates]
    assert m[1].photo[-1].width == 1280 and m[1].caption == "скан"
    assert m[2].document.file_name == "справка.pdf" and m[3].voice.duration == dt.timedelta(seconds=3)
    assert m[4].sticker.emoji and m[5].location.latitude and m[6].contact.user_id == 5
    assert updates[7].edited_message.text == "исправленное"
    assert m[8].text == "/help@egov_test_bot" and m[8].from_user.language_code == "kk"
    assert updates[8].message.parse_entities() and m[8].chat.type == "group"
    assert updates[9].channel_post.sender_chat.id == -200
    assert forwarded.forward_origin.chat.id == -200
    assert emulator.sent(chat)[-1]["message_id"] == copied.message_id


async def test_long_poll_blocks_until_an_update_arrives(emulator: BotApiEmulator) -> None:
    chat = emulator.private_chat(3, "Нурлан")
    timer = threading.Timer(0.2, emulator.send_text, (chat, None, "поздно"))
    timer.start()
    started = time.monotonic()
    status, body = await asyncio.to_thread(post, emulator, "getUpdates", b'{"timeout": 5}')
    assert status == 200 and body["result"][0]["message"]["text"] == "поздно"
    assert 0.15 < time.monotonic() - started < 2
    timer.join()
    started = time.monotonic()
    body = (await asyncio.to_thread(post, emulator, "getUpdates",
                                    b"offset=2&timeout=0.3", "application/x-www-form-urlencoded"))[1]
    assert body == {"ok": True, "result": []} and time.monotonic() - started >= 0.25


def test_raw_http_errors_and_encodings(emulator: BotApiEmulator) -> None:
    assert post(emulator, "nope") == (404, {"ok": False, "error_code": 404,
                                            "description": "Not Found: method not found"})
    assert post(emulator, "getMe", token="1:wrong")[0] == 401
    emulator.fail_next("getMe", status=429, retry_after=1)
    assert post(emulator, "getMe") == (429, {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1}})
    chat = emulator.private_chat(9, "Арман")
    multipart = (b"--XX\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n9\r\n"
                 b"--XX\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n123\r\n--XX--\r\n")
    status, body = post(emulator, "sendMessage", multipart, "multipart/form-data; boundary=XX")
    assert status == 200 and body["result"]["text"] == "123" and body["result"]["chat"]["id"] == 9
    markup = json.dumps({"keyboard": [[{"text": "Отправить"}]]})
    status, body = post(emulator, "sendMessage", json.dumps(
        {"chat_id": 9, "text": "k", "reply_markup": json.loads(markup)}).encode())
    assert status == 200 and "reply_markup" not in body["result"]  # API returns inline ones only
    assert emulator.sent(chat)[-1]["reply_markup"] == json.loads(markup)  # but the test sees it
    assert post(emulator, "getUpdates", b"")[1] == {"ok": True, "result": []}


async def test_concurrent_injection_while_ptb_polls(emulator: BotApiEmulator) -> None:
    chats = [emulator.private_chat(2000 + i, f"user{i}") for i in range(4)]

    def burst(chat_index: int) -> None:
        for n in range(15):
            emulator.send_text(chats[chat_index], None, f"m{chat_index}-{n}")

    async with running(echo_app(emulator, [])):
        threads = [threading.Thread(target=burst, args=(i,)) for i in range(len(chats))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for i, chat in enumerate(chats):
            await emulator.wait_for(f"echo: m{i}-14", chat=chat)
    for chat in chats:
        ids = [m["message_id"] for m in emulator.sent(chat)]
        assert len(ids) == 15 and ids == sorted(set(ids))


async def test_wait_for_failure_dumps_what_was_sent(emulator: BotApiEmulator) -> None:
    chat = emulator.private_chat(11, "Гульнар")
    async with Bot(emulator.token, base_url=emulator.base_url) as bot:
        await bot.send_message(chat.id, "меню", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("ЭЦП", callback_data="eds")]]))
    with pytest.raises(AssertionError, match=r"(?s)#1: 'меню' buttons=\['ЭЦП'\].*sendMessage"):
        await emulator.wait_for("нет такого", timeout=0.05)
    with pytest.raises(AssertionError, match="no button 'other'"):
        emulator.press_button(chat, None, 1, "other")
