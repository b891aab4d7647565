"""Outgoing requests: python-telegram-bot's rate limiter, and retries for what a handler sends.

A citizen's answer is sent straight from the handler (it is not stored first), so a refusal or a network
fault there would lose it. Here such a request is retried: after Telegram's retry_after for a 429, with
backoff after a timeout, a network error or an HTTP 5xx. Requests made inside `without_retries()` fail at
once: the delivery pass sends what is in the database and keeps its own retry schedule there.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
import warnings
from typing import Any, Iterator

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)
_NO_RETRIES = contextvars.ContextVar("no_retries", default=False)
RETRIES = 3        # further attempts of a handler's request
BACKOFF = 1.0      # seconds before the first retry after a network fault; doubled each time
LONGEST_WAIT = 60.0  # a longer retry_after is not waited for in a handler: the error handler apologises


class RetryingRateLimiter(AIORateLimiter):
    def __init__(self, overall_max_rate: float, *, retries: int = RETRIES, backoff: float = BACKOFF) -> None:
        super().__init__(overall_max_rate=overall_max_rate, max_retries=0)
        self.retries = retries
        self.backoff = backoff

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        retries = 0 if _NO_RETRIES.get() else self.retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, None)
            except RetryAfter as error:
                wait = retry_seconds(error)
                if attempt == retries or wait > LONGEST_WAIT:
                    raise
                log.info("%s: Telegram asks to wait %.0f s; retrying", endpoint, wait)
                await asyncio.sleep(wait)
            except BadRequest:
                raise  # the request itself is wrong: sending it again changes nothing
            except NetworkError as error:  # timeouts, connection errors, HTTP 5xx
                if attempt == retries:
                    raise
                log.info("%s failed (%s); retrying", endpoint, error)
                await asyncio.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")


@contextlib.contextmanager
def without_retries() -> Iterator[None]:
    """Requests made inside (in this task) fail at once instead of being retried."""
    token = _NO_RETRIES.set(True)
    try:
        yield
    finally:
        _NO_RETRIES.reset(token)


def retry_seconds(error: RetryAfter) -> float:
    """Telegram's retry_after, as seconds (PTB 22 gives an int or a timedelta, with a deprecation warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
