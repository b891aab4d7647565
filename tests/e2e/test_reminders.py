"""The real bot process: a reminder that fell due while the bot was killed is sent after the restart, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .emulator import BotApiEmulator
from .test_bot_process import GROUP_ID, BotProcess


class RemindingBot(BotProcess):
    def environment(self) -> dict[str, str]:
        # 0.1 working minute (6 s) with the librarians always at work: the reminder falls due within the test.
        return super().environment() | {"TAKE_REMINDER_MINUTES": "0.1", "REPLY_REMINDER_MINUTES": "0"}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_reminder_due_during_a_restart_is_sent_after_it_once(database, emulator: BotApiEmulator,
                                                                      tmp_path: Path, request) -> None:
    citizen = emulator.private_chat(5001, "Айгуль")
    group = emulator.group_chat(GROUP_ID, "Библиотекари", supergroup=True)
    url = request.getfixturevalue("postgres").create_database() if database == "postgresql" else None
    bot = RemindingBot(emulator, tmp_path, url)
    await bot.start()
    try:
        emulator.send_text(citizen, None, "какое население караганды")
        card = await emulator.wait_for("население", chat=group, timeout=20)
        await bot.rows_become("SELECT card_message_id FROM tickets", [(card["message_id"],)])
        bot.kill()  # kill -9 before the reminder is due
        await asyncio.sleep(7)
        await bot.start()
        reminder = await emulator.wait_for("⏰ #1 ждёт", chat=group, timeout=20)
        assert "население караганды" in reminder["text"]
        assert reminder.get("reply_to_message", {}).get("message_id") == card["message_id"]
        await asyncio.sleep(7)  # two more delivery passes at least
        reminders = [m for m in emulator.sent(group) if (m.get("text") or "").startswith("⏰")]
        assert len(reminders) == 1
        assert bot.rows("SELECT key, done FROM reminders") == [("take:1", True)] or \
            bot.rows("SELECT key, done FROM reminders") == [("take:1", 1)]
    finally:
        bot.stop()
