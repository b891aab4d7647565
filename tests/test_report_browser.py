"""The report in a real browser: headless Chromium draws the page of a seeded database; its charts have a size,
no text overflows its box at a desktop and at a narrow window, and a screenshot is made.

Without Chromium the test skips here; under CI (CI=true, where .ci/run installs it) that is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import browser
from test_report import _report, _seeded


@pytest.fixture(scope="module")
def chromium() -> str:
    found = browser.chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium not found: .ci/run should have installed it")
        pytest.skip("chromium is not installed here")
    return found


def test_the_report_renders_in_chromium(tmp_path: Path, chromium: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    _seeded(url, 4000, extra=["очень-длинное-слово-без-пробелов-" * 6])
    _report(tmp_path, url, "--days", "90")
    page = tmp_path / "report.html"

    shot = tmp_path / "report.png"
    browser.screenshot(chromium, page, shot, width=1000, height=1600)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    for width in (1000, 500):
        found = browser.measure(chromium, page, width)
        assert [c["label"] for c in found["charts"]] == [
            "Вопросы по дням по исходу", "Исходы по языкам", "Обращения к библиотекарям по дням"]
        for chart in found["charts"]:
            assert chart["width"] > 100 and chart["height"] > 20 and chart["shapes"] > 0, (width, chart)
        assert found["overflow"] == [], width
        page_width, window = found["page"]
        assert page_width <= window, (width, page_width, window)


def test_the_measuring_finds_an_overflow(tmp_path: Path, chromium: str) -> None:
    """The check itself: a word wider than its cell and a chart drawn at no size are caught."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><main><div style="width:100px;overflow:hidden;white-space:nowrap">'
                    + "слово " * 40 + '</div><svg class="chart" aria-label="x" width="0" height="0"></svg>'
                    "</main></body></html>", encoding="utf-8")
    found = browser.measure(chromium, page)
    assert found["overflow"] and found["overflow"][0].startswith("DIV")
    assert found["charts"][0]["width"] == 0
