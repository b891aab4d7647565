"""`egov-bot report --html`: the page over a seeded database (SQLite and PostgreSQL), an empty one, escaping,
bad input, and the size and build time on 90 days of 20,000 questions."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot import cli
from bot.domain import utcnow
from bot.storage import Storage
from bot.storage.schema import QuestionRow
from report_seed import seed


def _seeded(url: str, questions: int, days: int = 90, extra: list[str] = ()) -> None:
    async def run() -> None:
        store = await seed(url, questions=questions, days=days)
        try:
            if extra:
                async with store.database.sessions.begin() as session:
                    await session.execute(insert(QuestionRow), [
                        {"citizen_id": 1, "question": text, "lang": "ru", "decision": "escalate", "entry_id": None,
                         "score": 0.0, "created_at": utcnow()} for text in extra])
        finally:
            await store.dispose()

    asyncio.run(run())


def _report(tmp_path: Path, url: str, *more: str) -> str:
    target = tmp_path / "report.html"
    assert cli.main(["report", "--html", str(target), "--database", url, *more]) == 0
    return target.read_text(encoding="utf-8")


def _check_page(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ru">' in page
    assert "<script" not in page.lower()                      # readable with scripts off: there are none
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)  # nothing fetched from elsewhere
    assert "@import" not in page and "url(" not in page


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_report_of_a_seeded_database(tmp_path: Path, request, capsys, database: str) -> None:
    url = (f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}" if database == "sqlite"
           else request.getfixturevalue("postgres").create_database())
    _seeded(url, 3000, extra=["<script>alert('x')</script> курс доллара & евро"])
    page = _report(tmp_path, url, "--days", "90")
    assert "report written to" in capsys.readouterr().out
    _check_page(page)
    for heading in ("Вопросы по дням", "По языкам", "Чаще всего выдавались ответом", "Больше всего «не помогло»",
                    "Пробелы в базе знаний", "Библиотекари", "Состояние базы знаний"):
        assert f">{heading}" in page, heading
    assert page.count('<svg class="chart"') == 3
    assert page.count("<g><title>") == 2 * 90  # a bar per day of the period in both day charts
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; курс доллара &amp; евро" in page
    assert "Период:" in page and "Составлен:" in page and page.count('class="counts"') >= 8
    assert "курс доллара" in page.split("Пробелы в базе знаний")[1]  # the most asked gap is listed
    assert "Регистрация ТОО" in page  # the most asked entry of the seed, by its Russian title
    assert "медиана; 90%" in page and "из 5" in page


def test_report_of_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    page = _report(tmp_path, url)
    _check_page(page)
    assert "Вопросов пока нет" in page
    assert "Состояние базы знаний" in page and "Ни разу не выданы ответом за период" in page
    assert "<svg" not in page


def test_bad_input_is_one_line_and_leaves_the_old_report(tmp_path: Path, capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    target = tmp_path / "report.html"
    target.write_text("old report", encoding="utf-8")
    assert cli.main(["report", "--html", str(target), "--days", "0", "--database", url]) == 2
    assert capsys.readouterr().err.strip() == "egov-bot: --days must be at least 1 (got 0)"
    assert cli.main(["report", "--html", str(tmp_path / "no" / "r.html"), "--database", url]) == 2
    assert "folder not found" in capsys.readouterr().err
    assert cli.main(["report", "--html", str(target), "--database", "nosuchdb://x"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert target.read_text(encoding="utf-8") == "old report"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_90_days_of_20000_questions_fit_in_under_1_mb(tmp_path: Path) -> None:
    # The build time is benchmarks/bench_report.py's to print (a timed test would fail on a busy machine).
    url = f"sqlite+aiosqlite:///{tmp_path / 'big.sqlite3'}"
    _seeded(url, 20_000)
    page = _report(tmp_path, url, "--days", "90")
    size = len(page.encode("utf-8"))
    assert size < 1_000_000, size
    assert page.count("<rect") > 300
