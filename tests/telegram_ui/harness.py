"""The harness of the offline handler tests for the Telegram front end.

As python-telegram-bot's own test suite does, the bot talks to a RecordingRequest (a BaseRequest) instead of
the network: it records every (method, params) call and answers like the Bot API would. Updates are fed with
Application.process_update, so every test runs through build_application's real handler table.

TG is the harness (the `tg` fixture in conftest.py builds it over a fresh SQLite store): it makes updates
(private texts, commands, group replies, button presses, media, ...), feeds them, raises any handler fault in
the test, and offers queries over the recorded calls. Faults are scheduled with
`tg.request.fail_next(method, status, description, chat_id=..., retry_after=...)`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import html
import itertools
import json
import re
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

import pg
from bot import locales
from bot.config import Settings
from bot.domain import Ticket
from bot.helpdesk import HelpDesk
from bot.storage import Storage

JSON = dict[str, Any]

GROUP_ID = -1001
OTHER_GROUP_ID = -2002
CHANNEL_ID = -100500
BOT_USER: JSON = {"id": 999, "is_bot": True, "first_name": "egov", "username": "egov_bot"}

# Citizens (private chats: chat id == user id), librarians and an editor.
AIGUL: JSON = {"id": 501, "is_bot": False, "first_name": "Айгуль", "language_code": "ru"}
ASEL: JSON = {"id": 502, "is_bot": False, "first_name": "Әсел", "language_code": "kk"}
BOLAT: JSON = {"id": 503, "is_bot": False, "first_name": "Болат", "language_code": "ru"}
DANA: JSON = {"id": 504, "is_bot": False, "first_name": "Дана", "language_code": "ru"}
MARIA: JSON = {"id": 701, "is_bot": False, "first_name": "Мария", "last_name": "Иванова", "language_code": "ru"}
ERZHAN: JSON = {"id": 702, "is_bot": False, "first_name": "Ержан", "last_name": "Сапаров", "language_code": "ru"}
EDITOR: JSON = {"id": 42, "is_bot": False, "first_name": "Редактор", "language_code": "ru"}

ENV = {"TELEGRAM_BOT_TOKEN": "123:ABC", "LIBRARIAN_CHAT_ID": str(GROUP_ID), "EDITOR_IDS": "42",
       "LIBRARIAN_HOURS": "Mon-Sun 00:00-23:59"}

NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")


def ru(key: str, **values: object) -> str:
    return locales.text("ru", key, **values)


def kk(key: str, **values: object) -> str:
    return locales.text("kk", key, **values)


def group(key: str, **values: object) -> str:
    """A text of the librarians' group."""
    return locales.text(locales.GROUP, key, **values)


# --- the transport ------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    params: JSON
    status: int = 200  # the HTTP status the fake Bot API answered with

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def buttons(self) -> list[str]:
        return buttons(self.params.get("reply_markup"))


@dataclass
class Failure:
    method: str
    status: int
    description: str
    chat_id: int | None = None
    retry_after: int | None = None


def buttons(markup: JSON | None) -> list[str]:
    """callback_data of every inline button of a reply_markup, row by row."""
    if not markup:
        return []
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


class RecordingRequest(BaseRequest):
    """Records every Bot API call and answers like Telegram; faults can be scheduled per method (and chat).

    Message ids are counted per chat and shared with the updates the tests make (as in Telegram, where a
    chat's user and bot messages share one sequence). Every message is remembered, so a reply carries its
    reply_to_message (one level deep, as Telegram sends it) and an edit updates the stored message.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.messages: dict[tuple[int, int], JSON] = {}
        self.unexpected: list[str] = []
        self._last_id: dict[int, int] = defaultdict(int)

    # BaseRequest's abstract interface
    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    # helpers shared with the update factories
    def next_message_id(self, chat_id: int) -> int:
        self._last_id[chat_id] += 1
        return self._last_id[chat_id]

    def remember(self, message: JSON) -> JSON:
        self.messages[(message["chat"]["id"], message["message_id"])] = message
        return message

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        found = self.messages.get((chat_id, message_id))
        return copy.deepcopy(found) if found else None

    def fail_next(self, method: str, status: int, description: str | None = None, *, chat_id: int | None = None,
                  retry_after: int | None = None) -> None:
        """The next call of `method` (to `chat_id`, if given) fails with this HTTP status."""
        default = {403: "Forbidden: bot was blocked by the user", 429: "Too Many Requests: retry after 5",
                   500: "Internal Server Error", 400: "Bad Request"}.get(status, "Error")
        self.failures.append(Failure(method, status, description or default, chat_id, retry_after))

    # the fake Bot API
    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, read_timeout=None,
                         write_timeout=None, connect_timeout=None, pool_timeout=None) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        for key in ("reply_markup", "reply_parameters", "entities", "commands"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        call = Call(api_method, params)
        self.calls.append(call)
        failure = self._take_failure(api_method, call.chat_id)
        if failure is not None:
            call.status = failure.status
            body: JSON = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.status, json.dumps(body).encode()
        try:
            result = self._answer(api_method, params)
        except _ApiError as error:
            call.status = 400
            return 400, json.dumps({"ok": False, "error_code": 400, "description": str(error)}).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _take_failure(self, method: str, chat_id: int | None) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and (failure.chat_id is None or failure.chat_id == chat_id):
                self.failures.remove(failure)
                return failure
        return None

    def _answer(self, method: str, params: JSON) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("answerCallbackQuery", "setMyCommands", "deleteMessage", "sendChatAction"):
            return True
        if method == "sendMessage":
            return self._new_message(params, text=plain(params["text"], params.get("parse_mode")))
        if method == "copyMessage":
            source = self.message(int(params["from_chat_id"]), int(params["message_id"])) or {}
            content = {k: v for k, v in source.items() if k in ("text", "photo", "document", "voice", "sticker",
                                                                   "contact", "poll", "location")}
            if "caption" in params:
                content["caption"] = params["caption"]
            message = self._new_message(params, **content)
            return {"message_id": message["message_id"]}
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return self._edit(method, params)
        self.unexpected.append(method)
        raise _ApiError(f"Bad Request: method {method} is not emulated by RecordingRequest")

    def _new_message(self, params: JSON, **content: Any) -> JSON:
        chat_id = int(params["chat_id"])
        reply_to = None
        reply = params.get("reply_parameters")
        if reply:
            reply_to = self.message(chat_id, int(reply["message_id"]))
            if reply_to is None and not reply.get("allow_sending_without_reply"):
                raise _ApiError("Bad Request: message to be replied not found")
        message: JSON = {"message_id": self.next_message_id(chat_id), "date": int(time.time()),
                         "chat": chat_dict(chat_id), "from": dict(BOT_USER), **content}
        markup = params.get("reply_markup")
        if markup and "inline_keyboard" in markup:  # only inline keyboards come back in a Message
            message["reply_markup"] = markup
        if reply_to is not None:
            reply_to.pop("reply_to_message", None)  # Telegram nests one level only
            message["reply_to_message"] = reply_to
        self.remember(message)
        return copy.deepcopy(message)

    def _edit(self, method: str, params: JSON) -> JSON:
        key = (int(params["chat_id"]), int(params["message_id"]))
        stored = self.messages.get(key)
        if stored is None:
            raise _ApiError("Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        markup = markup if markup and "inline_keyboard" in markup else None
        text = plain(params["text"], params.get("parse_mode")) if method == "editMessageText" else stored.get("text")
        if text == stored.get("text") and markup == stored.get("reply_markup"):
            raise _ApiError(NOT_MODIFIED)
        if text is not None:
            stored["text"] = text
        if markup is None:
            stored.pop("reply_markup", None)
        else:
            stored["reply_markup"] = markup
        stored["edit_date"] = int(time.time())
        return copy.deepcopy(stored)


class _ApiError(Exception):
    pass


def plain(text: str, parse_mode: str | None) -> str:
    """The text as Telegram stores and returns it: HTML markup parsed away (entities are not kept here)."""
    if parse_mode != "HTML":
        return text
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def chat_dict(chat_id: int) -> JSON:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "user"}
    return {"id": chat_id, "type": "supergroup", "title": "Библиотекари" if chat_id == GROUP_ID else "Другая группа"}


# --- the harness --------------------------------------------------------------------------------


class TG:
    """The application over a RecordingRequest, update factories and queries over the recorded calls."""

    def __init__(self, app, request: RecordingRequest, helpdesk: HelpDesk, settings: Settings, db_path: Path,
                 database_url: str = "") -> None:
        self.app = app
        self.request = request
        self.helpdesk = helpdesk
        self.store: Storage = helpdesk.store
        self.settings = settings
        self.db_path = db_path
        self.database_url = database_url or f"sqlite+aiosqlite:///{db_path}"
        self.errors: list[BaseException] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    # --- feeding updates

    async def feed(self, update: JSON, *, allow_errors: bool = False) -> None:
        """Process one update; a fault in a handler is raised here (unless allow_errors)."""
        before = len(self.errors)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        await self.app.bot_data["courier"].settled()  # cards and messages the update asked to send
        assert not self.request.unexpected, f"unexpected Bot API methods: {self.request.unexpected}"
        if not allow_errors and len(self.errors) > before:
            raise self.errors[before]

    def _update(self, kind: str, payload: JSON) -> JSON:
        return {"update_id": next(self._update_ids), kind: payload}

    def _message(self, chat: JSON, user: JSON | None, **content: Any) -> JSON:
        message: JSON = {"message_id": self.request.next_message_id(chat["id"]), "date": int(time.time()),
                         "chat": chat, **content}
        if user is not None:
            message["from"] = user
        return self.request.remember(message)

    @staticmethod
    def private_chat(user: JSON) -> JSON:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    def private_text(self, user: JSON, text: str) -> JSON:
        return self._update("message", self._message(self.private_chat(user), user, text=text))

    def command(self, user: JSON, text: str, chat_id: int | None = None) -> JSON:
        """A command ("/take 1"), in the user's private chat or in chat_id."""
        name = text.split()[0]
        chat = self.private_chat(user) if chat_id is None else chat_dict(chat_id)
        entities = [{"type": "bot_command", "offset": 0, "length": len(name)}]
        return self._update("message", self._message(chat, user, text=text, entities=entities))

    def group_reply(self, librarian: JSON, text: str, reply_to: int, chat_id: int = GROUP_ID, **content: Any) -> JSON:
        """A librarian's message in the group replying to message `reply_to` (the bot's, if it is not known)."""
        target = self.request.message(chat_id, reply_to) or {
            "message_id": reply_to, "date": int(time.time()), "chat": chat_dict(chat_id), "from": dict(BOT_USER)}
        target.pop("reply_to_message", None)
        if text:
            content["text"] = text
        return self._update("message", self._message(chat_dict(chat_id), librarian, reply_to_message=target, **content))

    def group_text(self, user: JSON, text: str, chat_id: int = GROUP_ID) -> JSON:
        return self._update("message", self._message(chat_dict(chat_id), user, text=text))

    def callback(self, user: JSON, data: str, message: JSON) -> JSON:
        return self._update("callback_query", {
            "id": f"cb{next(self._callback_ids)}", "from": user, "chat_instance": f"ci{message['chat']['id']}",
            "data": data, "message": copy.deepcopy(message)})

    def location(self, user: JSON, latitude: float, longitude: float) -> JSON:
        return self._update("message", self._message(self.private_chat(user), user,
                                                     location={"latitude": latitude, "longitude": longitude}))

    def media(self, user: JSON, kind: str, caption: str | None = None, chat: JSON | None = None) -> JSON:
        """photo, document, voice, sticker, contact or poll from the user (in their private chat by default)."""
        unique = f"u{next(self._update_ids)}"
        content: JSON = {
            "photo": {"photo": [{"file_id": f"ph-{unique}", "file_unique_id": unique, "width": 90, "height": 90},
                                {"file_id": f"PH-{unique}", "file_unique_id": unique + "L", "width": 800, "height": 800}]},
            "document": {"document": {"file_id": f"doc-{unique}", "file_unique_id": unique, "file_name": "скан.pdf"}},
            "voice": {"voice": {"file_id": f"v-{unique}", "file_unique_id": unique, "duration": 4}},
            "sticker": {"sticker": {"file_id": f"s-{unique}", "file_unique_id": unique, "type": "regular",
                                    "width": 512, "height": 512, "is_animated": False, "is_video": False}},
            "contact": {"contact": {"phone_number": "+77011234567", "first_name": user["first_name"],
                                    "user_id": user["id"]}},
            "poll": {"poll": {"id": f"p-{unique}", "question": "Да или нет?",
                              "options": [{"persistent_id": "o1", "text": "Да", "voter_count": 0},
                                          {"persistent_id": "o2", "text": "Нет", "voter_count": 0}],
                              "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
                              "allows_multiple_answers": False, "allows_revoting": False,
                              "members_only": False}},
        }[kind]
        if caption is not None:
            content["caption"] = caption
        return self._update("message", self._message(chat or self.private_chat(user), user, **content))

    def edited(self, user: JSON, text: str) -> JSON:
        message = self._message(self.private_chat(user), user, text=text)
        return self._update("edited_message", dict(message, edit_date=int(time.time())))

    def channel_post(self, text: str) -> JSON:
        chat = {"id": CHANNEL_ID, "type": "channel", "title": "Новости"}
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
        return self._update("channel_post", self._message(chat, None, text=text, entities=entities))

    # conveniences: make and feed
    async def say(self, user: JSON, text: str) -> JSON:
        update = self.private_text(user, text)
        await self.feed(update)
        return update["message"]

    async def cmd(self, user: JSON, text: str, chat_id: int | None = None) -> JSON:
        update = self.command(user, text, chat_id)
        await self.feed(update)
        return update["message"]

    async def press(self, user: JSON, data: str, message: JSON, *, allow_errors: bool = False) -> str:
        """Press a button with `data` on `message` (the current stored version of it); returns the query id."""
        current = self.request.message(message["chat"]["id"], message["message_id"]) or message
        update = self.callback(user, data, current)
        await self.feed(update, allow_errors=allow_errors)
        return update["callback_query"]["id"]

    async def librarian_reply(self, librarian: JSON, text: str, reply_to: int, **content: Any) -> JSON:
        update = self.group_reply(librarian, text, reply_to, **content)
        await self.feed(update)
        return update["message"]

    async def escalate(self, user: JSON, question: str = "какая погода завтра в темиртау") -> Ticket:
        """An unmatched question: a ticket with its card in the group."""
        await self.say(user, question)
        tickets = await self.store.tickets.queue_of((await self.citizen(user)).id)
        assert tickets, f"no ticket was opened for {question!r}: {self.texts(user['id'])}"
        return tickets[-1]

    # --- reading what happened

    def clear(self) -> None:
        self.request.calls.clear()

    @property
    def calls(self) -> list[Call]:
        return [c for c in self.request.calls if c.method != "getMe"]

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Call]:
        return [c for c in self.request.calls if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    def texts(self, chat_id: int) -> list[str]:
        return [c.text for c in self.sent(chat_id)]

    def last(self, chat_id: int, method: str = "sendMessage") -> Call:
        found = self.sent(chat_id, method)
        assert found, f"no {method} to {chat_id}; calls: {[(c.method, c.chat_id, c.text[:60]) for c in self.calls]}"
        return found[-1]

    def last_message(self, chat_id: int) -> JSON:
        """The bot's last message in the chat, as Telegram stored it (for pressing its buttons)."""
        ids = [mid for (cid, mid), m in self.request.messages.items() if cid == chat_id and m.get("from") == BOT_USER]
        assert ids, f"the bot sent nothing to {chat_id}"
        return self.request.message(chat_id, max(ids))

    def message_with_button(self, chat_id: int, data: str) -> JSON:
        """The bot's latest message in the chat with a button carrying `data`."""
        found = [m for (cid, _), m in self.request.messages.items()
                 if cid == chat_id and data in buttons(m.get("reply_markup"))]
        assert found, f"no message in {chat_id} has a button {data!r}"
        return copy.deepcopy(max(found, key=lambda m: m["message_id"]))

    def answers(self) -> list[JSON]:
        return [c.params for c in self.sent(method="answerCallbackQuery")]

    def answer_to(self, query_id: str) -> JSON:
        found = [a for a in self.answers() if a["callback_query_id"] == query_id]
        assert len(found) == 1, f"callback {query_id} answered {len(found)} times"
        return found[0]

    def card(self, ticket_id: int) -> Call:
        """The sendMessage that posted the ticket's card to the group."""
        found = [c for c in self.sent(GROUP_ID) if c.text.startswith(f"#{ticket_id} · ") and f"z:{ticket_id}" in c.buttons]
        assert len(found) == 1, f"{len(found)} cards for ticket #{ticket_id}"
        return found[0]

    def card_edits(self, ticket_id: int, message_id: int) -> list[Call]:
        return [c for c in self.sent(GROUP_ID, "editMessageText") if int(c.params["message_id"]) == message_id]

    async def citizen(self, user: JSON):
        return await self.store.citizens.get("telegram", str(user["id"]))

    async def ticket(self, ticket_id: int) -> Ticket:
        ticket = await self.store.tickets.get(ticket_id)
        assert ticket is not None, f"no ticket #{ticket_id}"
        return ticket

    def sql(self, query: str, *args: Any) -> list[tuple]:
        """Read or change the database directly (for what the store does not expose); SQLite's "?"
        placeholders and text timestamps work on PostgreSQL too."""
        if self.database_url.startswith("postgresql"):
            return pg.query(self.database_url, query, args)
        with sqlite3.connect(self.db_path) as connection:
            rows = connection.execute(query, args).fetchall()
        connection.close()
        return rows


def parse_db_time(value: str | dt.datetime) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, **changes)
