"""The HTTP transport to the Bot API: requests go as JSON bodies, and updates are kept as Telegram sent them.

Both save CPU on every message. PTB's default transport sends a url-encoded form, and for a Cyrillic answer
percent-encoding every byte costs more than the rest of the request. The Bot API takes application/json
for any request without a file. intake.py keeps each update until its handling ends. Writing the update
from the text Telegram sent is cheaper than having PTB serialise the parsed object again, and just as
faithful.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

RAW_KEPT = 2000  # updates received and not yet taken by intake, at most (getUpdates gives at most 100 at a time)


class RawUpdates:
    """Updates as received, by update id, until intake takes each one (bounded: one never taken is dropped)."""

    def __init__(self, limit: int = RAW_KEPT) -> None:
        self._kept: OrderedDict[int, dict] = OrderedDict()
        self._limit = limit

    def keep(self, update: dict) -> None:
        if isinstance(update, dict) and isinstance(update.get("update_id"), int):
            self._kept[update["update_id"]] = update
            while len(self._kept) > self._limit:
                self._kept.popitem(last=False)

    def take(self, update_id: int) -> str | None:
        """The update as Telegram sent it, as JSON; None when it did not come through getUpdates here."""
        raw = self._kept.pop(update_id, None)
        return None if raw is None else json.dumps(raw, ensure_ascii=False)


class JsonRequest(HTTPXRequest):
    """HTTPXRequest sending JSON bodies; requests with files still go as multipart forms."""

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE, pool_timeout=BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        if request_data is None or request_data.contains_files or self._client.is_closed:
            return await super().do_request(url, method, request_data, read_timeout, write_timeout,
                                            connect_timeout, pool_timeout)
        configured = self._client.timeout
        timeout = httpx.Timeout(connect=_given(connect_timeout, configured.connect), read=_given(read_timeout, configured.read),
                                write=_given(write_timeout, configured.write), pool=_given(pool_timeout, configured.pool))
        body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
        try:
            response = await self._client.request(
                method=method, url=url, content=body, timeout=timeout,
                headers={"User-Agent": self.USER_AGENT, "Content-Type": "application/json"})
        except httpx.PoolTimeout as error:
            raise TimedOut("Pool timeout: every connection is busy; the request was not sent") from error
        except httpx.TimeoutException as error:
            raise TimedOut from error
        except httpx.HTTPError as error:  # the base of httpx's errors: after the timeouts
            raise NetworkError(f"httpx.{type(error).__name__}: {error}") from error
        return response.status_code, response.content


class UpdatesRequest(JsonRequest):
    """The getUpdates transport: every update received is also kept as sent (see RawUpdates)."""

    def __init__(self, raw: RawUpdates, **kwargs) -> None:
        super().__init__(**kwargs)
        self.raw = raw

    def parse_json_payload(self, payload: bytes) -> dict:
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            for update in result:
                self.raw.keep(update)
        return data


def _given(value, default):
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value
