"""The Bot API transport: JSON bodies, updates kept as received, and faults reported as PTB's errors."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError

from bot.telegram_ui.transport import JsonRequest, RawUpdates, UpdatesRequest

MESSAGE = {"message_id": 5, "date": 1764590000, "chat": {"id": 42, "type": "private"}, "text": "ok"}
UPDATE = {"update_id": 700, "message": {"message_id": 9, "date": 1764590000, "chat": {"id": 42, "type": "private"},
                                        "from": {"id": 42, "is_bot": False, "first_name": "Айгүл"},
                                        "text": "как получить эцп", "entities": []}}


class ApiServer:
    """A stand-in for the Bot API on 127.0.0.1 that records each request's method, content type and body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                method = self.path.rsplit("/", 1)[-1]
                server.requests.append((method, self.headers.get("Content-Type", ""), body))
                result = {"getMe": {"id": 1, "is_bot": True, "first_name": "egov", "username": "egov_bot"},
                          "getUpdates": [UPDATE], "sendMessage": MESSAGE}.get(method, True)
                payload = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/bot"

    def __enter__(self) -> "ApiServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.http.server_close()


async def test_a_request_without_files_goes_as_one_json_body():
    with ApiServer() as api:
        bot = Bot("1:T", base_url=api.base_url, request=JsonRequest(), get_updates_request=JsonRequest())
        async with bot:
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Да", callback_data="h:1")]])
            sent = await bot.send_message(42, "Как получить ЭЦП: 1. Откройте egov.kz", reply_markup=keyboard)
    assert sent.message_id == 5
    method, content_type, body = api.requests[-1]
    assert (method, content_type) == ("sendMessage", "application/json")
    params = json.loads(body)
    assert params["text"] == "Как получить ЭЦП: 1. Откройте egov.kz"
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "Да", "callback_data": "h:1"}]]}
    assert "Как" in body.decode()  # UTF-8 as it is, not escaped


async def test_updates_are_kept_as_received_until_intake_takes_them():
    raw = RawUpdates()
    with ApiServer() as api:
        bot = Bot("1:T", base_url=api.base_url, request=JsonRequest(), get_updates_request=UpdatesRequest(raw))
        async with bot:
            updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [700]
    assert json.loads(raw.take(700)) == UPDATE
    assert raw.take(700) is None  # taken once; a recovered update is serialised from the object again


def test_the_kept_updates_are_bounded():
    raw = RawUpdates(limit=3)
    for update_id in range(5):
        raw.keep({"update_id": update_id})
    raw.keep({"no": "id"})
    assert [raw.take(i) is not None for i in range(5)] == [False, False, True, True, True]


async def test_a_server_that_does_not_answer_is_a_network_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    bot = Bot("1:T", base_url=f"http://127.0.0.1:{port}/bot", request=JsonRequest(connect_timeout=1))
    await bot.request.initialize()
    try:
        with pytest.raises(NetworkError):
            await bot.send_message(42, "привет")
    finally:
        await bot.request.shutdown()
