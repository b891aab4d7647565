"""PerChatOrder: chats are served at the same time, one chat's updates one after another, in order."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.telegram_ui.ordering import PerChatOrder


def text_update(update_id: int, chat_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": "x",
        "chat": {"id": chat_id, "type": "private", "first_name": "A"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "A"}}}, None)


async def test_one_chat_in_order_other_chats_meanwhile() -> None:
    processor = PerChatOrder(8)
    await processor.initialize()
    log: list[str] = []

    async def handle(name: str, pause: float) -> None:
        log.append(f"start {name}")
        await asyncio.sleep(pause)
        log.append(f"end {name}")

    jobs = [(text_update(1, 501), handle("a1", 0.05)), (text_update(2, 501), handle("a2", 0)),
            (text_update(3, 502), handle("b1", 0)), (text_update(4, 501), handle("a3", 0))]
    await asyncio.gather(*(processor.process_update(u, c) for u, c in jobs))

    a = [entry for entry in log if entry.endswith(("a1", "a2", "a3"))]
    assert a == ["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]
    assert log.index("end b1") < log.index("end a1")  # the other citizen did not wait for a1
    assert processor.busy_chats == 0  # nothing is kept for chats that went quiet
    await processor.shutdown()


async def test_a_failing_update_does_not_block_its_chat() -> None:
    processor = PerChatOrder(4)
    done: list[int] = []

    async def fail() -> None:
        raise RuntimeError("handler fault")

    async def ok() -> None:
        done.append(2)

    results = await asyncio.gather(processor.process_update(text_update(1, 7), fail()),
                                   processor.process_update(text_update(2, 7), ok()), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and done == [2]
    assert processor.busy_chats == 0


async def test_updates_without_a_chat_run_at_once() -> None:
    processor = PerChatOrder(4)
    seen: list[str] = []

    async def handle() -> None:
        seen.append("inline")

    inline = Update.de_json({"update_id": 9, "inline_query": {"id": "1", "query": "эцп", "offset": "",
                                                              "from": {"id": 5, "is_bot": False, "first_name": "A"}}}, None)
    await processor.process_update(inline, handle())
    assert seen == ["inline"] and processor.busy_chats == 0


async def test_each_update_is_reported_finished_after_its_handlers() -> None:
    finished: list[int] = []
    handled: list[int] = []

    async def report(update: Update) -> None:
        assert update.update_id in handled
        finished.append(update.update_id)

    async def handle(n: int) -> None:
        handled.append(n)

    processor = PerChatOrder(4, finished=report)
    await asyncio.gather(*(processor.process_update(text_update(n, 500 + n % 2), handle(n)) for n in range(1, 5)))
    assert sorted(finished) == [1, 2, 3, 4]


async def test_a_failing_finished_report_is_only_logged(caplog) -> None:
    async def broken(update: Update) -> None:
        raise ConnectionError("database gone")

    async def handle() -> None:
        pass

    await PerChatOrder(2, finished=broken).process_update(text_update(1, 5), handle())
    assert "could not mark update 1 as finished" in caplog.text
