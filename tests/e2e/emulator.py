"""A Telegram Bot API emulator on 127.0.0.1 for end-to-end tests with python-telegram-bot 22.

Standard library only: a ThreadingHTTPServer in a background thread serves ``/bot<TOKEN>/<method>``
(POST as JSON, url-encoded form or multipart; GET with a query string also works). Point PTB at it::

    emu = BotApiEmulator().start()            # or: with BotApiEmulator() as emu: ...
    app = (Application.builder().token(emu.token)
           .base_url(emu.base_url)             # "http://127.0.0.1:<port>/bot", PTB appends token
           .base_file_url(emu.base_file_url)   # "http://127.0.0.1:<port>/file/bot"
           .build())

Tests inject updates (``send_text``, ``press_button``, ...), read what the bot did (``sent``,
``await wait_for(...)``, ``calls``, ``answered_callbacks``) and inject faults (``fail_next``,
``delay_next``, ``block_user``). Behaviour follows the real API where bots commonly trip: per-chat
message ids shared by user and bot, "message is not modified", callback queries answerable once,
text limits, 64-byte callback_data, unknown chats. Message ``text`` is stored as sent (HTML or
Markdown is not parsed). State is guarded by one lock: PTB polls while tests inject.
"""

from __future__ import annotations

import asyncio
import copy
import html
import json
import re
import socketserver
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON = dict[str, Any]
_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
# Form fields PTB sends as raw strings; every other form field is JSON-encoded by PTB.
_STRING_PARAMS = frozenset(
    "text caption parse_mode callback_query_id url inline_message_id action emoji title description "
    "short_description name language_code secret_token business_connection_id message_effect_id "
    "phone_number first_name last_name address".split()
)
_CONTENT = ("text", "entities", "caption", "caption_entities", "photo", "document", "voice",
            "sticker", "location", "contact")
_SEND_PREFIXES = ("send", "copy", "forward")


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    language_code: str | None = "ru"
    username: str | None = None
    is_bot: bool = False

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        data.update({k: v for k, v in (("username", self.username),
                                       ("language_code", self.language_code)) if v})
        return data


@dataclass(frozen=True)
class Chat:
    id: int
    type: str  # "private" | "group" | "supergroup" | "channel"
    title: str | None = None
    user: User | None = None  # the other party of a private chat

    def to_api(self) -> JSON:
        if self.user is not None:
            data = {"id": self.id, "type": self.type, "first_name": self.user.first_name}
            return data | ({"username": self.user.username} if self.user.username else {})
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass(frozen=True)
class Call:
    method: str  # as the client spelled it, e.g. "sendMessage"
    params: JSON
    at: float = field(default_factory=time.time)


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def _error(status: int, description: str, parameters: JSON | None = None) -> JSON:
    body: JSON = {"ok": False, "error_code": status, "description": description}
    return body | ({"parameters": parameters} if parameters else {})


def _decode(name: str, raw: str) -> Any:
    if name in _STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # e.g. chat_id="@channel"


def _parse_body(content_type: str, body: bytes) -> JSON:
    mime = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if mime == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data
    if mime == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        out: JSON = {}
        for part in BytesParser(policy=HTTP).parsebytes(head + body).iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            out[str(name)] = payload if part.get_filename() else _decode(str(name), payload.decode())
        return out
    return {k: _decode(k, v[-1]) for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


def _public(msg: JSON) -> JSON:
    """A message as the API returns it: Message.reply_markup can only be an inline keyboard."""
    out = copy.deepcopy(msg)
    for m in (out, out.get("reply_to_message") or {}):
        if "reply_markup" in m and "inline_keyboard" not in (m["reply_markup"] or {}):
            del m["reply_markup"]
    return out


def _buttons(msg: JSON) -> list[JSON]:
    return [b for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # a silent client may hold a handler thread this long

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self._dispatch(url.path, {k: _decode(k, v[-1]) for k, v in parse_qs(url.query).items()})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            params = _parse_body(self.headers.get("Content-Type", ""), body)
        except ValueError as exc:
            return self._send(400, _error(400, f"Bad Request: can't parse request body: {exc}"))
        params.update({k: _decode(k, v[-1]) for k, v in parse_qs(url.query).items()})
        self._dispatch(url.path, params)

    def _dispatch(self, path: str, params: JSON) -> None:
        match = _PATH.match(path)
        if match is None:
            return self._send(404, _error(404, "Not Found"))
        self._send(*self.server.emulator._call(match["token"], match["method"], params))

    def _send(self, status: int, payload: JSON) -> None:
        body = json.dumps(payload, ensure_ascii=False, default=repr).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client went away, e.g. PTB cancelled a long poll on shutdown


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins request threads: nothing outlives stop()
    request_queue_size = 128  # PTB may open many connections at once

    def __init__(self, emulator: BotApiEmulator, port: int) -> None:
        self.emulator = emulator
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:  # skip HTTPServer's getfqdn(): no DNS lookups offline
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.emulator._errors.append(traceback.format_exc())


class BotApiEmulator:
    """In-process fake of api.telegram.org. All public methods are thread-safe."""

    def __init__(self, token: str = "123:ABC", *, port: int = 0, bot_username: str = "egov_test_bot",
                 bot_first_name: str = "eGov Test Bot") -> None:
        self.token, self._port = token, port
        self.bot = User(int(token.split(":")[0]), bot_first_name, None, bot_username, is_bot=True)
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._chats: dict[int, Chat] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._next_id: dict[int, int] = {}
        self._sent_keys: list[tuple[int, int]] = []
        self._deleted: set[tuple[int, int]] = set()
        self._updates: list[JSON] = []
        self._update_id = self._seq = 0
        self._open_queries: set[str] = set()
        self._answered: list[JSON] = []
        self._calls: list[Call] = []
        self._errors: list[str] = []
        self._faults: dict[str, list[tuple[int, JSON]]] = {}
        self._delays: dict[str, list[float]] = {}
        self._losses: dict[str, list[float]] = {}
        self._blocked: set[int] = set()
        self._commands: dict[str, Any] = {}
        self._methods: dict[str, Callable[[JSON], Any]] = {
            "getme": lambda p: self.bot.to_api() | {"can_join_groups": True,
                                                    "can_read_all_group_messages": False,
                                                    "supports_inline_queries": False},
            "getupdates": self._get_updates, "deletewebhook": self._delete_webhook,
            "getwebhookinfo": lambda p: {"url": "", "has_custom_certificate": False,
                                         "pending_update_count": len(self._updates)},
            "sendmessage": self._send_message, "answercallbackquery": self._answer_callback,
            "editmessagetext": lambda p: self._edit(p, True),
            "editmessagereplymarkup": lambda p: self._edit(p, False),
            "deletemessage": self._delete_message, "copymessage": self._copy,
            "forwardmessage": lambda p: self._copy(p, forward=True),
            "setmycommands": self._set_commands, "deletemycommands": self._set_commands,
            "getmycommands": lambda p: self._commands.get(self._scope_key(p), []),
        }
        for name in ("setwebhook", "sendchataction", "close", "logout", "setmydescription",
                     "setmyshortdescription", "setchatmenubutton"):
            self._methods[name] = lambda p: True

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> BotApiEmulator:
        self._stopping.clear()
        self._server = _Server(self, self._port)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="bot-api-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()  # wake long polls so their threads can be joined
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> BotApiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "emulator not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url`` / TELEGRAM_BASE_URL: PTB appends ``<token>/<method>``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- users and chats ------------------------------------------------------------------------
    def user(self, user_id: int, first_name: str, language_code: str | None = "ru",
             username: str | None = None) -> User:
        return User(user_id, first_name, language_code, username)

    def private_chat(self, user_id: int, first_name: str, language_code: str | None = "ru",
                     username: str | None = None) -> Chat:
        return self._register(Chat(user_id, "private",
                                   user=User(user_id, first_name, language_code, username)))

    def group_chat(self, chat_id: int, title: str, *, supergroup: bool = False) -> Chat:
        return self._register(Chat(chat_id, "supergroup" if supergroup else "group", title))

    def channel(self, chat_id: int, title: str) -> Chat:
        return self._register(Chat(chat_id, "channel", title))

    def _register(self, chat: Chat) -> Chat:
        with self._lock:
            self._chats[chat.id] = chat
        return chat

    # --- injecting updates ----------------------------------------------------------------------
    def inject_update(self, kind: str, payload: JSON) -> int:
        """Queue a raw update ``{"update_id": n, kind: payload}``; returns its update_id."""
        with self._cond:
            self._update_id += 1
            self._updates.append({"update_id": self._update_id, kind: copy.deepcopy(payload)})
            self._cond.notify_all()
            return self._update_id

    def _inject(self, chat: Chat, user: User | None, content: JSON, reply_to: int | None = None,
                kind: str | None = None) -> JSON:
        sender = user or chat.user
        if sender is None and chat.type != "channel":
            raise ValueError(f"a user is required for {chat.type} chat {chat.id}")
        with self._lock:
            msg = self._new_message(chat, sender.to_api() if sender else None, content,
                                    None if reply_to is None else (chat.id, reply_to))
            self.inject_update(kind or ("channel_post" if chat.type == "channel" else "message"),
                               _public(msg))
            return copy.deepcopy(msg)

    def send_text(self, chat: Chat, user: User | None, text: str, reply_to: int | None = None) -> JSON:
        return self._inject(chat, user, {"text": text}, reply_to)

    def send_command(self, chat: Chat, user: User | None, command: str, args: str = "", *,
                     mention: bool = False) -> JSON:
        head = "/" + command.lstrip("/") + (f"@{self.bot.username}" if mention else "")
        entity = {"type": "bot_command", "offset": 0, "length": len(head)}
        return self._inject(chat, user, {"text": f"{head} {args}".rstrip(), "entities": [entity]})

    def channel_post(self, chat: Chat, text: str) -> JSON:
        return self._inject(chat, None, {"text": text}, kind="channel_post")

    def send_location(self, chat: Chat, user: User | None, latitude: float = 51.1282,
                      longitude: float = 71.4307) -> JSON:
        return self._inject(chat, user, {"location": {"latitude": latitude, "longitude": longitude}})

    def send_contact(self, chat: Chat, user: User | None, phone_number: str) -> JSON:
        sender = user or chat.user
        contact = {"phone_number": phone_number, "first_name": sender.first_name if sender else "?"}
        return self._inject(chat, user, {"contact": contact | ({"user_id": sender.id} if sender else {})})

    def send_photo(self, chat: Chat, user: User | None, caption: str | None = None) -> JSON:
        sizes = [self._file("photo", width=w, height=h, file_size=w * h // 8)
                 for w, h in ((90, 68), (320, 240), (1280, 960))]
        return self._inject(chat, user, {"photo": sizes} | ({"caption": caption} if caption else {}))

    def send_document(self, chat: Chat, user: User | None, file_name: str = "document.pdf",
                      mime_type: str = "application/pdf", caption: str | None = None) -> JSON:
        doc = self._file("doc", file_name=file_name, mime_type=mime_type, file_size=2048)
        return self._inject(chat, user, {"document": doc} | ({"caption": caption} if caption else {}))

    def send_voice(self, chat: Chat, user: User | None, duration: int = 3) -> JSON:
        voice = self._file("voice", duration=duration, mime_type="audio/ogg", file_size=4000 * duration)
        return self._inject(chat, user, {"voice": voice})

    def send_sticker(self, chat: Chat, user: User | None, emoji: str = "👍") -> JSON:
        sticker = self._file("sticker", type="regular", width=512, height=512, is_animated=False,
                             is_video=False, emoji=emoji)
        return self._inject(chat, user, {"sticker": sticker})

    def edited_message(self, chat: Chat, message_id: int, text: str) -> JSON:
        """Edit a message a user (or channel) sent earlier; queues edited_message/edited_channel_post."""
        with self._lock:
            msg = self._messages.get((chat.id, message_id))
            if msg is None or (chat.id, message_id) in self._sent_keys:
                raise AssertionError(f"no user message #{message_id} in chat {chat.id}")
            msg.update(text=text, edit_date=int(time.time()))
            self.inject_update("edited_channel_post" if chat.type == "channel" else "edited_message",
                               _public(msg))
            return copy.deepcopy(msg)

    def press_button(self, chat: Chat, user: User | None, message_id: int, callback_data: str) -> str:
        """Press an inline button of a bot message; returns the callback query id."""
        sender = user or chat.user
        assert sender is not None, "a user is required to press a button in a group"
        with self._lock:
            msg = self._messages.get((chat.id, message_id))
            if msg is None or (chat.id, message_id) not in self._sent_keys:
                raise AssertionError(f"no bot message #{message_id} in chat {chat.id}\n{self.dump()}")
            datas = [b.get("callback_data") for b in _buttons(msg)]
            if callback_data not in datas:
                raise AssertionError(f"message #{message_id} has no button {callback_data!r}: {datas}")
            query_id = self._file_id("cbq")
            self._open_queries.add(query_id)
            self.inject_update("callback_query", {
                "id": query_id, "from": sender.to_api(), "message": _public(msg),
                "chat_instance": f"ci{chat.id}", "data": callback_data})
            return query_id

    def _file_id(self, prefix: str) -> str:
        with self._lock:
            self._seq += 1
            return f"{prefix}{self._seq}"

    def _file(self, prefix: str, **fields: Any) -> JSON:
        file_id = self._file_id(prefix)
        return {"file_id": file_id, "file_unique_id": "u" + file_id} | fields

    # --- reading what the bot did ---------------------------------------------------------------
    def sent(self, chat: Chat | int | None = None, *, include_deleted: bool = False) -> list[JSON]:
        """Messages the bot sent (to ``chat``, or anywhere), oldest first, with edits applied."""
        cid = chat.id if isinstance(chat, Chat) else chat
        with self._lock:
            return [copy.deepcopy(self._messages[k]) for k in self._sent_keys
                    if (cid is None or k[0] == cid) and (include_deleted or k not in self._deleted)]

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[JSON]:
        return [c.params for c in self.calls if c.method.lower() == method.lower()]

    @property
    def answered_callbacks(self) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(self._answered)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of bugs inside the emulator itself (answered with HTTP 500)."""
        with self._lock:
            return list(self._errors)

    async def wait_for(self, predicate: Callable[[JSON], bool] | str | None = None,
                       timeout: float = 10.0, *, chat: Chat | int | None = None,
                       after: int | JSON | None = None) -> JSON:
        """Wait for a sent message matching ``predicate`` (a str means: contained in text/caption).

        ``after`` (a message id or a message) skips older messages: per-chat ids are shared by
        user and bot, so ``after=emu.send_text(...)`` waits for the reply to that message.
        Raises AssertionError with a dump of everything sent on timeout.
        """
        if isinstance(predicate, str):
            needle = predicate
            predicate = lambda m: needle in (m.get("text") or m.get("caption") or "")  # noqa: E731
        floor = after["message_id"] if isinstance(after, dict) else after
        return await self._poll(lambda: self.sent(chat), predicate, timeout, "message", chat,
                                lambda m: floor is None or m["message_id"] > floor)

    async def wait_for_call(self, method: str, predicate: Callable[[JSON], bool] | None = None,
                            timeout: float = 10.0) -> JSON:
        """Wait until the bot called ``method`` with params matching ``predicate``; return them."""
        return await self._poll(lambda: self.calls_to(method), predicate, timeout, method + " call")

    async def _poll(self, items: Callable[[], list[JSON]], predicate: Callable[[JSON], bool] | None,
                    timeout: float, what: str, chat: Chat | int | None = None,
                    extra: Callable[[JSON], bool] = lambda item: True) -> JSON:
        deadline = time.monotonic() + timeout
        while True:
            for item in items():
                if extra(item) and (predicate is None or predicate(item)):
                    return item
            if time.monotonic() >= deadline:
                raise AssertionError(f"no matching {what} within {timeout}s\n{self.dump(chat)}")
            await asyncio.sleep(0.01)

    def dump(self, chat: Chat | int | None = None) -> str:
        lines = ["messages sent by the bot:"]
        with self._lock:
            for m in self.sent(chat, include_deleted=True):
                gone = " (deleted)" if (m["chat"]["id"], m["message_id"]) in self._deleted else ""
                body = m.get("text") or m.get("caption") or next((k for k in _CONTENT if k in m), "?")
                keys = [b.get("text") for b in _buttons(m)]
                lines.append(f"  chat {m['chat']['id']} #{m['message_id']}{gone}: {body!r}"
                             + (f" buttons={keys}" if keys else ""))
            counts: dict[str, int] = {}
            for c in self._calls:
                counts[c.method] = counts.get(c.method, 0) + 1
            lines.append(f"calls: {counts}")
            lines += [f"emulator error: {e}" for e in self._errors]
        return "\n".join(lines)

    # --- fault injection ------------------------------------------------------------------------
    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, times: int = 1,
                  description: str | None = None) -> None:
        """The next ``times`` calls of ``method`` fail with ``status`` (429, 500, 403, 400, ...)."""
        params = {"retry_after": retry_after} if status == 429 else None
        default = {429: f"Too Many Requests: retry after {retry_after}",
                   403: "Forbidden: bot was blocked by the user", 400: "Bad Request",
                   500: "Internal Server Error"}.get(status)
        body = _error(status, description or default or HTTPStatus(status).phrase, params)
        with self._lock:
            self._faults.setdefault(method.lower(), []).extend([(status, body)] * times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` ``seconds`` late (they still take effect)."""
        with self._lock:
            self._delays.setdefault(method.lower(), []).extend([seconds] * times)

    def lose_next(self, method: str, seconds: float) -> None:
        """The next call of ``method`` hangs ``seconds`` and then fails with 502, having taken no effect: a
        request lost on the way (kill the bot meanwhile to cut its handling short)."""
        with self._lock:
            self._losses.setdefault(method.lower(), []).append(seconds)

    def block_user(self, chat_id: Chat | int) -> None:
        with self._lock:
            self._blocked.add(chat_id.id if isinstance(chat_id, Chat) else chat_id)

    def unblock_user(self, chat_id: Chat | int) -> None:
        with self._lock:
            self._blocked.discard(chat_id.id if isinstance(chat_id, Chat) else chat_id)

    # --- the API --------------------------------------------------------------------------------
    def _call(self, token: str, method: str, params: JSON) -> tuple[int, JSON]:
        key = method.lower()
        with self._lock:
            self._calls.append(Call(method, params))
            delay = self._delays[key].pop(0) if self._delays.get(key) else 0.0
            fault = self._faults[key].pop(0) if self._faults.get(key) else None
            loss = self._losses[key].pop(0) if self._losses.get(key) else None
            blocked = key.startswith(_SEND_PREFIXES) and self._chat_key(params) in self._blocked
        if token != self.token:
            return 401, _error(401, "Unauthorized")
        if loss is not None:
            self._stopping.wait(loss)
            return 502, _error(502, "Bad Gateway")
        response = fault or self._handle(key, method, params, blocked)
        if delay:  # the call took effect, only the answer is late: like a real client timeout
            self._stopping.wait(delay)
        return response

    def _handle(self, key: str, method: str, params: JSON, blocked: bool) -> tuple[int, JSON]:
        try:
            handler = self._methods.get(key)
            if handler is None:
                raise _ApiError(404, "Not Found: method not found")
            if blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            if key == "getupdates":
                return 200, {"ok": True, "result": handler(params)}  # waits outside the lock
            with self._lock:
                return 200, {"ok": True, "result": handler(params)}
        except _ApiError as exc:
            return exc.status, _error(exc.status, exc.description, exc.parameters)
        except Exception:
            with self._lock:
                self._errors.append(f"{method}({params!r}):\n{traceback.format_exc()}")
            return 500, _error(500, "Internal Server Error")

    def _chat_key(self, params: JSON) -> int | str | None:
        value = params.get("chat_id")
        return int(value) if isinstance(value, str) and re.fullmatch(r"-?\d+", value) else value

    def _chat(self, params: JSON, name: str = "chat_id") -> Chat:
        value = self._chat_key({"chat_id": params.get(name)})
        for chat in self._chats.values():
            if chat.id == value or (isinstance(value, str) and chat.user is not None
                                    and f"@{chat.user.username}" == value):
                return chat
        raise _ApiError(400, "Bad Request: chat not found")

    def _new_message(self, chat: Chat, sender: JSON | None, content: JSON,
                     reply_to: tuple[int, int] | None = None) -> JSON:
        mid = self._next_id[chat.id] = self._next_id.get(chat.id, 0) + 1
        msg: JSON = {"message_id": mid, "date": int(time.time()), "chat": chat.to_api()}
        if chat.type == "channel":
            msg["sender_chat"] = chat.to_api()
        elif sender is not None:
            msg["from"] = sender
        msg.update(copy.deepcopy(content))
        target = self._messages.get(reply_to) if reply_to is not None else None
        if target is not None:
            msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        self._messages[(chat.id, mid)] = msg
        return msg

    def _bot_message(self, chat: Chat, content: JSON, params: JSON) -> JSON:
        reply = params.get("reply_parameters") or (
            {"message_id": params["reply_to_message_id"]} if "reply_to_message_id" in params else None)
        reply_to = None
        if reply:  # reply_parameters may point into another chat
            reply_chat = self._chat(reply).id if reply.get("chat_id") is not None else chat.id
            reply_to = (reply_chat, int(reply["message_id"]))
            if reply_to not in self._messages and not reply.get("allow_sending_without_reply"):
                raise _ApiError(400, "Bad Request: message to be replied not found")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        msg = self._new_message(chat, None if chat.type == "channel" else self.bot.to_api(),
                                content | ({"reply_markup": markup} if markup else {}), reply_to)
        self._sent_keys.append((chat.id, msg["message_id"]))
        return msg

    @staticmethod
    def _check_markup(markup: Any) -> None:
        for button in _buttons({"reply_markup": markup}) if isinstance(markup, dict) else []:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    @staticmethod
    def _check_text(text: Any, parse_mode: Any) -> str:
        text = "" if text is None else str(text)
        plain = html.unescape(re.sub(r"<[^>]+>", "", text)) if parse_mode else text
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(plain.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return text

    def _get_updates(self, params: JSON) -> list[JSON]:
        offset, limit = int(params.get("offset") or 0), min(max(int(params.get("limit") or 100), 1), 100)
        allowed = params.get("allowed_updates") or []
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self._cond:
            while True:
                if offset > 0:  # confirm everything below offset
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = [u for u in self._updates if not allowed or any(k in u for k in allowed)]
                batch = pending[offset:] if offset < 0 else pending
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping.is_set():
                    return batch[:limit]
                self._cond.wait(remaining)

    def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            with self._cond:
                self._updates.clear()
        return True

    def _send_message(self, params: JSON) -> JSON:
        chat = self._chat(params)
        text = self._check_text(params.get("text"), params.get("parse_mode"))
        content: JSON = {"text": text}
        if params.get("entities"):
            content["entities"] = params["entities"]
        return _public(self._bot_message(chat, content, params))

    def _edit(self, params: JSON, text: bool) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        chat = self._chat(params)
        key = (chat.id, int(params.get("message_id") or 0))
        msg = self._messages.get(key)
        if msg is None or key in self._deleted:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if key not in self._sent_keys:
            raise _ApiError(400, "Bad Request: message can't be edited")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        new = dict(msg)
        if text and "text" not in msg:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        if text:
            new["text"] = self._check_text(params.get("text"), params.get("parse_mode"))
        new.pop("reply_markup", None)
        if markup:
            new["reply_markup"] = markup
        if new.get("text") == msg.get("text") and new.get("reply_markup") == msg.get("reply_markup"):
            raise _ApiError(400, "Bad Request: message is not modified: specified new message content "
                                 "and reply markup are exactly the same as a current content and "
                                 "reply markup of the message")
        msg.clear()
        msg.update(new, edit_date=int(time.time()))
        return _public(msg)

    def _answer_callback(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self._open_queries:
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired or "
                                 "query ID is invalid")
        self._open_queries.discard(query_id)
        self._answered.append(copy.deepcopy(params))
        return True

    def _delete_message(self, params: JSON) -> bool:
        key = (self._chat(params).id, int(params.get("message_id") or 0))
        if key not in self._messages or key in self._deleted:
            raise _ApiError(400, "Bad Request: message to delete not found")
        self._deleted.add(key)
        return True

    def _copy(self, params: JSON, forward: bool = False) -> JSON:
        chat, source_chat = self._chat(params), self._chat(params, "from_chat_id")
        key = (source_chat.id, int(params.get("message_id") or 0))
        source = self._messages.get(key)
        if source is None or key in self._deleted:
            raise _ApiError(400, f"Bad Request: message to {'forward' if forward else 'copy'} not found")
        content = {k: source[k] for k in _CONTENT if k in source}
        if not forward and params.get("caption") is not None:
            content["caption"] = params["caption"]
        if forward:
            origin = ({"type": "user", "sender_user": source["from"]} if "from" in source else
                      {"type": "channel", "chat": source_chat.to_api(),
                       "message_id": source["message_id"]})
            content["forward_origin"] = origin | {"date": source["date"]}
            params = {k: v for k, v in params.items() if k != "reply_markup"}
        msg = self._bot_message(chat, content, params)
        return _public(msg) if forward else {"message_id": msg["message_id"]}

    @staticmethod
    def _scope_key(params: JSON) -> str:
        return json.dumps([params.get("scope") or {"type": "default"}, params.get("language_code") or ""],
                          sort_keys=True)

    def _set_commands(self, params: JSON) -> bool:
        self._commands[self._scope_key(params)] = params.get("commands") or []
        return True
