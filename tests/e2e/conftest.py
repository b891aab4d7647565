"""Fixtures for end-to-end tests: a running Bot API emulator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .emulator import BotApiEmulator


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (PTBDeprecationWarning) whenever an int-or-timedelta attribute is read, and
    # RetryAfter reads its own retry_after in __init__: with filterwarnings=error every 429 would
    # surface as a warning instead of RetryAfter. Opting in to timedelta values avoids that.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def emulator() -> Iterator[BotApiEmulator]:
    with BotApiEmulator() as emu:
        yield emu
    assert not emu.errors, "\n".join(emu.errors)
