"""Two bot instances in webhook mode on one PostgreSQL database, as behind a load balancer."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.storage import Storage

from .emulator import BotApiEmulator
from .test_bot_process import GROUP_ID, BotProcess, buttons

SECRET = "two-instances-secret-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, update: dict) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                     headers={"Content-Type": "application/json",
                                              "X-Telegram-Bot-Api-Secret-Token": SECRET})
    for _ in range(100):
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except urllib.error.URLError:
            time.sleep(0.1)  # the instance is still starting
    raise AssertionError(f"instance on port {port} never answered")


def user(user_id: int, name: str) -> dict:
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "ru"}


def text_update(update_id: int, chat_id: int, name: str, text: str, reply_to: dict | None = None) -> dict:
    chat = {"id": chat_id, "type": "private", "first_name": name} if chat_id > 0 else \
        {"id": chat_id, "type": "supergroup", "title": "Библиотекари"}
    message = {"message_id": 100000 + update_id, "date": int(time.time()), "chat": chat,
               "from": user(abs(chat_id) if chat_id > 0 else 7000 + update_id % 50, name), "text": text}
    if reply_to:
        message["reply_to_message"] = reply_to
    return {"update_id": update_id, "message": message}


async def test_two_instances_share_one_postgresql_database(emulator: BotApiEmulator, tmp_path: Path, postgres) -> None:
    url = postgres.create_database()
    emulator.group_chat(GROUP_ID, "Библиотекари", supergroup=True)
    citizens = [emulator.private_chat(6000 + n, f"Житель{n}") for n in range(20)]
    ports = [free_port(), free_port()]
    instances = []
    for number, port in enumerate(ports):
        folder = tmp_path / f"instance{number}"
        folder.mkdir()
        bot = BotProcess(emulator, folder)
        env = bot.environment() | {"DATABASE_URL": url, "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                                   "WEBHOOK_SECRET": SECRET, "WEBHOOK_PORT": str(port)}
        with open(bot.log, "a") as log:
            bot.process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--webhook"], cwd=folder, env=env,
                                           stdout=log, stderr=subprocess.STDOUT)
        instances.append(bot)
        await emulator.wait_for_call("setWebhook", lambda call, p=port: str(p) in call.get("url", ""), timeout=30)
    store = Storage.from_url(url)
    pool = ThreadPoolExecutor(max_workers=40)
    loop = asyncio.get_running_loop()
    try:
        # 20 questions, half through each instance.
        questions = [text_update(1000 + n, c.id, f"Житель{n}", f"где купить билет на концерт номер {n}")
                     for n, c in enumerate(citizens)]
        statuses = await asyncio.gather(*(loop.run_in_executor(pool, post, ports[n % 2], u)
                                          for n, u in enumerate(questions)))
        assert set(statuses) == {200}
        for _ in range(300):
            cards = [m for m in emulator.sent(GROUP_ID) if any(b.startswith("t:") for b in buttons(m))]
            if len(cards) >= 20:
                break
            await asyncio.sleep(0.1)
        assert len(cards) == 20, emulator.dump(GROUP_ID)

        # 200 Take presses at once: 10 librarians on each of the 20 cards, spread over both instances.
        presses = []
        for card in cards:
            data = next(b for b in buttons(card) if b.startswith("t:"))
            for librarian in range(10):
                query_id = f"q{card['message_id']}-{librarian}"
                emulator._open_queries.add(query_id)
                presses.append({"update_id": 20000 + len(presses), "callback_query": {
                    "id": query_id, "from": user(7100 + librarian, f"Библиотекарь{librarian}"),
                    "message": card | {"from": emulator.bot.to_api(), "chat": {"id": GROUP_ID, "type": "supergroup"}},
                    "chat_instance": "group", "data": data}})
        statuses = await asyncio.gather(*(loop.run_in_executor(pool, post, ports[n % 2], u)
                                          for n, u in enumerate(presses)))
        assert set(statuses) == {200}
        for _ in range(300):
            if len(emulator.answered_callbacks) >= 200:
                break
            await asyncio.sleep(0.1)
        taken = [a for a in emulator.answered_callbacks if "ваш" in (a.get("text") or "")]
        assert len(taken) == 20, f"{len(taken)} librarians were told a ticket is theirs"
        tickets = await store.tickets.queue()
        assert len(tickets) == 20 and all(t.status == "taken" and t.taken_by for t in tickets)

        # The same update delivered to both instances (a webhook retry): one ticket.
        twice = text_update(5000, citizens[0].id, "Житель0", "и где купить билет в театр")  # joins that citizen's ticket
        new_citizen = emulator.private_chat(6999, "Новый")
        fresh = text_update(5001, new_citizen.id, "Новый", "посоветуйте хороший детектив")
        await asyncio.gather(*(loop.run_in_executor(pool, post, port, update)
                               for update in (twice, fresh) for port in ports))
        await emulator.wait_for("#21", chat=new_citizen)
        await asyncio.sleep(1.5)
        tickets = await store.tickets.queue()
        assert len(tickets) == 21
        first = next(t for t in tickets if t.question.endswith("номер 0"))
        assert len([m for m in await store.tickets.messages(first.id) if m.direction == "citizen"]) == 1

        # Replies to five cards, through alternating instances: each delivered exactly once.
        for n, card in enumerate(cards[:5]):
            number = int(next(b for b in buttons(card) if b.startswith("t:"))[2:])
            reply = text_update(30000 + n, GROUP_ID, "Гульнар", f"ответ на вопрос {number}",
                                reply_to=card | {"from": emulator.bot.to_api()})
            assert await loop.run_in_executor(pool, post, ports[n % 2], reply) == 200
        def answers() -> list[dict]:
            return [m for c in citizens for m in emulator.sent(c) if "Ответ библиотекаря" in (m.get("text") or "")]

        for _ in range(300):
            if len(answers()) >= 5:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # time for a duplicate to show up, if there were one
        assert sorted(m["text"] for m in answers()) == sorted(set(m["text"] for m in answers())) and len(answers()) == 5
    finally:
        pool.shutdown(wait=False)
        await store.dispose()
        for bot in instances:
            bot.stop()
