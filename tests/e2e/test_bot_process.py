"""The real `egov-bot run` process against the Bot API emulator: citizens and librarians end to end."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

import pg

from .emulator import BotApiEmulator

ROOT = Path(__file__).resolve().parents[2]
GROUP_ID = -1001234


class BotProcess:
    """`python -m bot run` with its settings in the environment, started and killed by the test."""

    def __init__(self, emulator: BotApiEmulator, tmp_path: Path, database_url: str | None = None) -> None:
        self.emulator = emulator
        self.database = tmp_path / "bot.sqlite3"
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.database}"
        self.log = tmp_path / "bot.log"
        self.cwd = tmp_path
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LIBRARIAN_", "DATABASE_"))}
        env.update(
            TELEGRAM_BOT_TOKEN=self.emulator.token,
            TELEGRAM_BASE_URL=self.emulator.base_url,
            LIBRARIAN_CHAT_ID=str(GROUP_ID),
            LIBRARIAN_HOURS="Mon-Sun 00:00-23:59",
            DATABASE_URL=self.database_url,
            EDITOR_IDS="7001",
            PYTHONPATH=str(ROOT),
        )
        return env

    async def start(self) -> None:
        polls = len(self.emulator.calls_to("getUpdates"))
        with open(self.log, "a") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=self.cwd,
                                            env=self.environment(), stdout=log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if len(self.emulator.calls_to("getUpdates")) > polls:
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log.read_text()}")
            await asyncio.sleep(0.05)
        raise AssertionError(f"the bot never polled for updates:\n{self.log.read_text()}")

    def kill(self) -> None:
        """kill -9: no chance to clean up."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def rows(self, query: str) -> list[tuple]:
        if self.database_url.startswith("postgresql"):
            return pg.query(self.database_url, query)
        with closing(sqlite3.connect(self.database)) as connection:
            rows = connection.execute(query).fetchall()
            connection.commit()
            return rows

    async def rows_become(self, query: str, expected: list[tuple], timeout: float = 10.0) -> None:
        """The bot writes to its database just after Telegram accepted a message: wait for it."""
        for _ in range(int(timeout / 0.05)):
            if self.rows(query) == expected:
                return
            await asyncio.sleep(0.05)
        assert self.rows(query) == expected


@pytest.fixture(params=["sqlite", "postgresql"])
async def world(request, emulator: BotApiEmulator, tmp_path: Path):
    """A citizen, the librarians' group and the bot, on SQLite or on PostgreSQL."""
    citizen = emulator.private_chat(5001, "Айгуль")
    group = emulator.group_chat(GROUP_ID, "Библиотекари", supergroup=True)
    url = request.getfixturevalue("postgres").create_database() if request.param == "postgresql" else None
    bot = BotProcess(emulator, tmp_path, url)
    await bot.start()
    try:
        yield emulator, bot, citizen, group
    finally:
        bot.stop()


def buttons(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


async def test_answer_ticket_card_and_librarian_reply(world) -> None:
    emulator, bot, citizen, group = world
    asked = emulator.send_text(citizen, None, "как получить эцп")
    answer = await emulator.wait_for("pki.gov.kz", chat=citizen, after=asked)
    assert "f:y:eds-obtain" in buttons(answer) and "f:n:eds-obtain" in buttons(answer)

    asked = emulator.send_text(citizen, None, "где купить билет на концерт в темиртау")
    await emulator.wait_for("#1", chat=citizen, after=asked)
    card = await emulator.wait_for("где купить билет", chat=group)
    assert "Айгуль" in card["text"] and buttons(card)[:2] == ["t:1", "z:1"]  # then the suggested entries

    librarian = emulator.user(7101, "Гульнар")
    emulator.send_text(group, librarian, "Билеты продаются в кассе Дворца культуры.", reply_to=card["message_id"])
    delivered = await emulator.wait_for("Ответ библиотекаря на ваш вопрос #1", chat=citizen)
    assert "кассе Дворца культуры" in delivered["text"]
    edited = await emulator.wait_for(lambda m: m["message_id"] == card["message_id"] and "Гульнар" in m["text"], chat=group)
    assert "t:1" not in buttons(edited)  # taken by the librarian who answered

    # A second round: the citizen writes again, the librarian answers that message in the group.
    emulator.send_text(citizen, None, "А во сколько открывается касса?")
    follow = await emulator.wait_for("во сколько открывается", chat=group)
    emulator.send_text(group, librarian, "С 10 утра.", reply_to=follow["message_id"])
    await emulator.wait_for("С 10 утра", chat=citizen)
    await bot.rows_become("SELECT direction, delivered FROM ticket_messages ORDER BY id",
                          [("librarian", 1), ("citizen", 1), ("librarian", 1)])


async def test_clarify_not_helpful_and_stuck_make_tickets(world) -> None:
    emulator, bot, citizen, group = world
    asked = emulator.send_text(citizen, None, "справка")
    choice = await emulator.wait_for(lambda m: "c:-" in buttons(m), chat=citizen, after=asked)
    emulator.press_button(citizen, None, choice["message_id"], "c:-")
    card = await emulator.wait_for("Не подошёл ни один вариант", chat=group)
    assert "справка" in card["text"]

    # While a ticket is open everything goes to it: withdraw it to ask the bot again.
    emulator.send_command(citizen, None, "cancel", "1")
    await emulator.wait_for("отменён", chat=citizen)
    await emulator.wait_for("Отменён жителем", chat=group)
    asked = emulator.send_text(citizen, None, "как получить эцп")
    answer = await emulator.wait_for("pki.gov.kz", chat=citizen, after=asked)
    emulator.press_button(citizen, None, answer["message_id"], "s:eds-obtain:1")
    step = await emulator.wait_for(lambda m: "x:eds-obtain:1" in buttons(m), chat=citizen)
    emulator.press_button(citizen, None, step["message_id"], "s:eds-obtain:2")
    step = await emulator.wait_for(lambda m: "x:eds-obtain:2" in buttons(m), chat=citizen)
    emulator.press_button(citizen, None, step["message_id"], "x:eds-obtain:2")
    await emulator.wait_for("Застрял на шаге 2", chat=group)
    emulator.send_command(citizen, None, "cancel", "2")
    await emulator.wait_for("#2 отменён", chat=citizen)

    emulator.press_button(citizen, None, answer["message_id"], "f:n:eds-obtain")
    offer = await emulator.wait_for(lambda m: "a:eds-obtain" in buttons(m), chat=citizen)
    emulator.press_button(citizen, None, offer["message_id"], "a:eds-obtain")
    card = await emulator.wait_for("Не помог ответ", chat=group)
    assert "Как получить ЭЦП" in card["text"]
    kinds = bot.rows("SELECT kind, entry_id, step FROM tickets ORDER BY id")
    assert kinds == [("declined", None, None), ("stuck", "eds-obtain", 2), ("not-helpful", "eds-obtain", None)]
    assert [row[0] for row in bot.rows("SELECT status FROM tickets ORDER BY id")] == ["withdrawn", "withdrawn", "open"]


async def test_two_librarians_press_take_at_once(world) -> None:
    emulator, bot, citizen, group = world
    emulator.send_text(citizen, None, "посоветуйте хороший детектив")
    card = await emulator.wait_for("детектив", chat=group)
    first, second = emulator.user(7101, "Гульнар"), emulator.user(7102, "Ержан")
    emulator.press_button(group, first, card["message_id"], "t:1")
    emulator.press_button(group, second, card["message_id"], "t:1")
    for _ in range(200):
        if len(emulator.answered_callbacks) >= 2:
            break
        await asyncio.sleep(0.05)
    texts = sorted(a.get("text", "") for a in emulator.answered_callbacks)
    assert any("ваш" in t for t in texts) and any("уже взял" in t for t in texts), texts
    assert bot.rows("SELECT status, taken_by FROM tickets") in ([("taken", "Гульнар")], [("taken", "Ержан")])


async def test_reply_survives_kill_and_restart(world) -> None:
    emulator, bot, citizen, group = world
    emulator.send_text(citizen, None, "какое население караганды")
    card = await emulator.wait_for("население", chat=group)
    bot.kill()
    librarian = emulator.user(7101, "Гульнар")
    emulator.send_text(group, librarian, "Около полумиллиона человек.", reply_to=card["message_id"])
    await bot.start()
    delivered = await emulator.wait_for("Ответ библиотекаря на ваш вопрос #1", chat=citizen, timeout=20)
    assert "полумиллиона" in delivered["text"]
    assert len([m for m in emulator.sent(citizen) if "полумиллиона" in (m.get("text") or "")]) == 1


async def test_a_question_cut_short_by_a_kill_is_answered_after_the_restart(world) -> None:
    """kill -9 while the answer is on its way: getUpdates has already confirmed the question, so Telegram
    will not send it again; the restarted bot finds it unfinished in its database and answers it, once."""
    emulator, bot, citizen, group = world
    emulator.lose_next("sendMessage", 30)  # the answer hangs in the network ...
    asked = emulator.send_text(citizen, None, "как получить эцп")
    update_id = emulator._update_id
    await emulator.wait_for_call("sendMessage")
    await emulator.wait_for_call("getUpdates", lambda c: int(c.get("offset") or 0) > update_id)  # confirmed
    await bot.rows_become("SELECT finished FROM processed_updates", [(False,)])
    bot.kill()  # ... when the bot is killed
    await bot.start()
    await emulator.wait_for("pki.gov.kz", chat=citizen, after=asked, timeout=20)
    await bot.rows_become("SELECT finished, payload FROM processed_updates", [(True, None)])
    assert len([m for m in emulator.sent(citizen) if "pki.gov.kz" in (m.get("text") or "")]) == 1


@pytest.mark.parametrize("status", [429, 500])
async def test_delivery_retries_after_bot_api_errors(world, status: int) -> None:
    emulator, bot, citizen, group = world
    emulator.send_text(citizen, None, "рецепт бешбармака")
    card = await emulator.wait_for("бешбармака", chat=group)
    emulator.fail_next("sendMessage", status=status, retry_after=1, times=2)
    emulator.send_text(group, emulator.user(7101, "Гульнар"), "Посмотрите книгу «Казахская кухня».", reply_to=card["message_id"])
    delivered = await emulator.wait_for("Казахская кухня", chat=citizen, timeout=25)
    assert delivered
    await bot.rows_become("SELECT delivered FROM ticket_messages", [(1,)])


async def test_blocked_citizen_is_reported_to_librarians(world) -> None:
    emulator, bot, citizen, group = world
    emulator.send_text(citizen, None, "кто написал войну и мир")
    card = await emulator.wait_for("войну и мир", chat=group)
    emulator.block_user(citizen.id)
    emulator.send_text(group, emulator.user(7101, "Гульнар"), "Лев Толстой.", reply_to=card["message_id"])
    await emulator.wait_for("заблокировал бота", chat=group)
    await bot.rows_become("SELECT citizen_blocked FROM tickets", [(1,)])


async def test_webhook_mode_checks_the_secret_and_handles_a_retried_update_once(emulator: BotApiEmulator,
                                                                               tmp_path: Path) -> None:
    import json
    import socket
    import time
    import urllib.error
    import urllib.request

    citizen = emulator.private_chat(5001, "Айгуль")
    emulator.group_chat(GROUP_ID, "Библиотекари", supergroup=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = BotProcess(emulator, tmp_path)
    secret = "s3cret-token-for-tests"
    env = bot.environment() | {"WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram", "WEBHOOK_SECRET": secret,
                               "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port)}
    with open(bot.log, "a") as log:
        bot.process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--webhook"], cwd=tmp_path, env=env,
                                       stdout=log, stderr=subprocess.STDOUT)
    try:
        hook = await emulator.wait_for_call("setWebhook", timeout=20)
        assert hook["url"] == f"http://127.0.0.1:{port}/telegram" and hook["secret_token"] == secret
        update = {"update_id": 900001, "message": {
            "message_id": 1, "date": int(time.time()), "text": "какая погода завтра в темиртау",
            "chat": {"id": citizen.id, "type": "private", "first_name": "Айгуль"},
            "from": {"id": citizen.id, "is_bot": False, "first_name": "Айгуль", "language_code": "ru"}}}

        def post(headers: dict) -> int:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                             headers={"Content-Type": "application/json", **headers})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        for _ in range(100):  # the server starts listening right after setWebhook
            try:
                status = await asyncio.to_thread(post, {})
                break
            except urllib.error.URLError:
                await asyncio.sleep(0.1)
        assert status == 403  # no secret: rejected
        assert await asyncio.to_thread(post, {"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-wrong"}) == 403
        ok = {"X-Telegram-Bot-Api-Secret-Token": secret}
        assert await asyncio.to_thread(post, ok) == 200
        assert await asyncio.to_thread(post, ok) == 200  # Telegram retried: the same update again
        await emulator.wait_for("#1", chat=citizen)
        await asyncio.sleep(1.0)
        assert bot.rows("SELECT count(*) FROM tickets") == [(1,)]
        assert len([m for m in emulator.sent(citizen) if "#1" in (m.get("text") or "")]) == 1
    finally:
        bot.stop()


async def test_a_webhook_instance_takes_over_what_a_killed_one_left(emulator: BotApiEmulator, tmp_path: Path,
                                                                  postgres) -> None:
    """Webhooks: Telegram got its 200, so it will not send the update again. The instance handling it is
    killed while the answer hangs in the network; another instance, seeing no heartbeat from it for
    INSTANCE_TIMEOUT seconds, handles the update: the citizen gets the answer once."""
    import json
    import socket
    import time
    import urllib.request

    citizen = emulator.private_chat(5001, "Айгуль")
    emulator.group_chat(GROUP_ID, "Библиотекари", supergroup=True)
    url = postgres.create_database()
    secret = "s3cret-token-for-tests"

    def start(name: str) -> tuple[BotProcess, int]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        folder = tmp_path / name
        folder.mkdir()
        bot = BotProcess(emulator, folder, url)
        env = bot.environment() | {"WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram", "WEBHOOK_SECRET": secret,
                                   "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port), "INSTANCE_TIMEOUT": "3"}
        with open(bot.log, "a") as log:
            bot.process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--webhook"], cwd=folder, env=env,
                                           stdout=log, stderr=subprocess.STDOUT)
        return bot, port

    def post(port: int, update: dict) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "X-Telegram-Bot-Api-Secret-Token": secret})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    first, port = start("first")
    second = None
    try:
        await emulator.wait_for_call("setWebhook", lambda c: str(port) in c["url"], timeout=20)
        update = {"update_id": 910001, "message": {
            "message_id": 1, "date": int(time.time()), "text": "как получить эцп",
            "chat": {"id": citizen.id, "type": "private", "first_name": "Айгуль"},
            "from": {"id": citizen.id, "is_bot": False, "first_name": "Айгуль", "language_code": "ru"}}}
        emulator.lose_next("sendMessage", 30)  # the answer hangs in the network ...
        for _ in range(100):  # the server starts listening right after setWebhook
            try:
                assert await asyncio.to_thread(post, port, update) == 200
                break
            except OSError:
                await asyncio.sleep(0.1)
        await emulator.wait_for_call("sendMessage", lambda c: c.get("chat_id") in (citizen.id, str(citizen.id)))
        first.kill()  # ... when this instance is killed

        second, second_port = start("second")
        answer = await emulator.wait_for("pki.gov.kz", chat=citizen, timeout=30)
        assert answer
        await asyncio.sleep(1.5)  # a few more heartbeats: nothing is handled twice
        assert len([m for m in emulator.sent(citizen) if "pki.gov.kz" in (m.get("text") or "")]) == 1
        assert second.rows("SELECT finished FROM processed_updates WHERE update_id = 910001") == [(True,)]
    finally:
        first.stop()
        if second is not None:
            second.stop()


async def test_database_restart_is_survived(emulator: BotApiEmulator, tmp_path: Path, postgres) -> None:
    """PostgreSQL goes away while the bot runs: the citizen gets an apology, and once the database is back
    the bot works again by itself; the ticket opened before is still there and its reply is delivered."""
    citizen = emulator.private_chat(5001, "Айгуль")
    group = emulator.group_chat(GROUP_ID, "Библиотекари", supergroup=True)
    bot = BotProcess(emulator, tmp_path, postgres.create_database())
    await bot.start()
    try:
        emulator.send_text(citizen, None, "где купить билет на концерт")
        card = await emulator.wait_for("концерт", chat=group)

        postgres.pause()
        asked = emulator.send_text(citizen, None, "как получить эцп")
        apology = await emulator.wait_for(lambda m: "что-то пошло не так" in (m.get("text") or ""), chat=citizen,
                                          after=asked, timeout=30)
        assert apology
        postgres.resume()

        emulator.send_text(group, emulator.user(7101, "Гульнар"), "В кассе Дворца культуры.", reply_to=card["message_id"])
        await emulator.wait_for("Ответ библиотекаря на ваш вопрос #1", chat=citizen, timeout=30)
    finally:
        bot.stop()
        if not postgres.started:
            postgres.resume()


async def test_delivery_is_retried_after_a_timeout(world) -> None:
    emulator, bot, citizen, group = world
    emulator.send_text(citizen, None, "рецепт бешбармака")
    card = await emulator.wait_for("бешбармака", chat=group)
    emulator.delay_next("sendMessage", 7)  # longer than the client's 5-second read timeout
    emulator.send_text(group, emulator.user(7101, "Гульнар"), "Посмотрите книгу «Казахская кухня».", reply_to=card["message_id"])
    await emulator.wait_for("Казахская кухня", chat=citizen, timeout=30)
    await bot.rows_become("SELECT delivered FROM ticket_messages", [(1,)], timeout=30)
    # A timed-out request may still have reached Telegram: the message can arrive twice, never zero times.
    assert 1 <= len([m for m in emulator.sent(citizen) if "Казахская кухня" in (m.get("text") or "")]) <= 2
