"""Settings from the environment and .env; librarians' hours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot import cli
from bot.config import ConfigError, LibrarianHours, Settings, database_url, environment, knowledge_dir, setting
from bot.knowledge import bundled_knowledge_dir

BASE = {"TELEGRAM_BOT_TOKEN": "123456:ABC-def_1", "LIBRARIAN_CHAT_ID": "-1001234"}


def settings(**extra: str) -> Settings:
    return Settings.from_env({**BASE, **extra}, env_file=None)


def test_defaults() -> None:
    s = settings()
    assert s.librarian_chat_id == -1001234
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.base_url is None and s.editor_ids == frozenset()
    assert s.hours.text == "Mon-Fri 09:00-18:00" and str(s.hours.zone) == "Asia/Almaty"
    assert s.query_log_days == 90 and settings(QUERY_LOG_DAYS="30").query_log_days == 30
    assert (s.flood_limit, s.send_rate) == (10, 30.0)
    assert (settings(FLOOD_LIMIT="0").flood_limit, settings(SEND_RATE="12.5").send_rate) == (0, 12.5)


def test_all_settings() -> None:
    s = settings(DATABASE_URL="postgresql+asyncpg://u@h/db", TELEGRAM_BASE_URL="http://127.0.0.1:8081/bot",
                 EDITOR_IDS="1, 2,3", LIBRARIAN_HOURS="Mon-Fri 09:00-18:00; Sat 10:00-14:00")
    assert s.database_url == "postgresql+asyncpg://u@h/db"
    assert s.base_url == "http://127.0.0.1:8081/bot"
    assert s.editor_ids == {1, 2, 3}
    assert len(s.hours.windows) == 6


@pytest.mark.parametrize(("extra", "named"), [
    ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN"),
    ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN"),
    ({"LIBRARIAN_CHAT_ID": ""}, "LIBRARIAN_CHAT_ID"),
    ({"LIBRARIAN_CHAT_ID": "librarians"}, "LIBRARIAN_CHAT_ID"),
    ({"EDITOR_IDS": "1,abc"}, "EDITOR_IDS"),
    ({"LIBRARIAN_HOURS": "weekdays 9-18"}, "LIBRARIAN_HOURS"),
    ({"LIBRARIAN_HOURS": "Mon-Fri 18:00-09:00"}, "LIBRARIAN_HOURS"),
    ({"LIBRARIAN_HOURS": "Mon-Fri 09:00-25:00"}, "LIBRARIAN_HOURS"),
    ({"LIBRARIAN_TIMEZONE": "Mars/Olympus"}, "LIBRARIAN_TIMEZONE"),
    ({"TELEGRAM_BASE_URL": "127.0.0.1:8081"}, "TELEGRAM_BASE_URL"),
    ({"KNOWLEDGE_DIR": "/no/such/dir"}, "KNOWLEDGE_DIR"),
    ({"QUERY_LOG_DAYS": "forever"}, "QUERY_LOG_DAYS"),
    ({"QUERY_LOG_DAYS": "0"}, "QUERY_LOG_DAYS"),
    ({"FLOOD_LIMIT": "many"}, "FLOOD_LIMIT"),
    ({"SEND_RATE": "0"}, "SEND_RATE"),
    ({"SEND_RATE": "fast"}, "SEND_RATE"),
])
def test_bad_settings_name_the_variable(extra: dict, named: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings(**extra)
    assert named in str(error.value) and "\n" not in str(error.value)


def test_env_file_fills_what_the_environment_lacks(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('# settings\nTELEGRAM_BOT_TOKEN="111:fromfile"\nexport LIBRARIAN_CHAT_ID=-5\nEDITOR_IDS=9\n')
    s = Settings.from_env({"EDITOR_IDS": "7"}, env_file=env)
    assert s.token == "111:fromfile" and s.librarian_chat_id == -5
    assert s.editor_ids == {7}  # the environment wins over the file


def test_a_setting_is_the_option_else_the_environment_else_dot_env_else_the_default(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DATABASE_URL=from-file\nKNOWLEDGE_DIR=/from/file\nEDITOR_IDS=1\n")
    monkeypatch.setenv("DATABASE_URL", "from-environment")
    monkeypatch.delenv("KNOWLEDGE_DIR", raising=False)
    monkeypatch.delenv("QUERY_LOG_DAYS", raising=False)
    assert setting("DATABASE_URL", "from-option", "default") == "from-option"
    assert setting("DATABASE_URL", None, "default") == "from-environment"
    assert setting("KNOWLEDGE_DIR", None, "default") == "/from/file"
    assert setting("QUERY_LOG_DAYS", None, "90") == "90"
    assert setting("QUERY_LOG_DAYS") is None
    monkeypatch.setenv("KNOWLEDGE_DIR", "  ")  # set blank in the environment: the default, not .env
    assert setting("KNOWLEDGE_DIR", None, "default") == "default"
    monkeypatch.delenv("KNOWLEDGE_DIR")
    # The same order for every setting at once, and for Settings itself.
    values = environment(options={"DATABASE_URL": None, "EDITOR_IDS": "7"})
    assert (values["DATABASE_URL"], values["KNOWLEDGE_DIR"], values["EDITOR_IDS"]) == ("from-environment", "/from/file", "7")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", BASE["TELEGRAM_BOT_TOKEN"])
    monkeypatch.setenv("LIBRARIAN_CHAT_ID", BASE["LIBRARIAN_CHAT_ID"])
    knowledge = str(bundled_knowledge_dir())
    s = Settings.from_env(options={"KNOWLEDGE_DIR": knowledge, "DATABASE_URL": None})
    assert (s.knowledge_dir, s.database_url, s.editor_ids) == (bundled_knowledge_dir(), "from-environment", {1})


def test_defaults_of_the_knowledge_directory_and_the_database() -> None:
    assert knowledge_dir({}) == bundled_knowledge_dir() == knowledge_dir({"KNOWLEDGE_DIR": " "})
    assert knowledge_dir({"KNOWLEDGE_DIR": "~/kb"}) == Path.home() / "kb"
    assert database_url({}) == "sqlite+aiosqlite:///./egov-bot.sqlite3"
    assert database_url({"DATABASE_URL": "postgresql+asyncpg://h/db"}) == "postgresql+asyncpg://h/db"


def test_run_with_bad_settings_exits_2_with_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("LIBRARIAN_CHAT_ID", "group")
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "LIBRARIAN_CHAT_ID" in err


def test_hours_open_and_next_opening() -> None:
    hours = LibrarianHours.parse("Mon-Fri 09:00-18:00; Sat 10:00-14:00")
    almaty = hours.zone
    monday_noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=almaty)
    assert hours.is_open(monday_noon)
    friday_evening = dt.datetime(2026, 11, 27, 19, 0, tzinfo=almaty)
    assert not hours.is_open(friday_evening)
    assert hours.next_opening(friday_evening) == dt.datetime(2026, 11, 28, 10, 0, tzinfo=almaty)
    saturday_late = dt.datetime(2026, 11, 28, 15, 0, tzinfo=almaty)
    assert hours.next_opening(saturday_late) == dt.datetime(2026, 11, 30, 9, 0, tzinfo=almaty)
    # The same moment in UTC is judged in Almaty time.
    assert hours.is_open(monday_noon.astimezone(dt.timezone.utc))


def test_hours_wrap_around_the_week() -> None:
    hours = LibrarianHours.parse("Sat-Mon 10:00-12:00")
    assert sorted(day for day, _, _ in hours.windows) == [0, 5, 6]


def test_webhook_settings() -> None:
    hook = Settings.from_env({**BASE, "WEBHOOK_URL": "https://bot.example.kz/telegram/hook",
                              "WEBHOOK_SECRET": "a" * 20, "WEBHOOK_PORT": "8080"}, env_file=None, webhook=True).webhook
    assert (hook.path, hook.port, hook.listen) == ("telegram/hook", 8080, "127.0.0.1")
    assert settings().webhook is None  # only with --webhook


@pytest.mark.parametrize(("extra", "named"), [
    ({}, "WEBHOOK_URL"),
    ({"WEBHOOK_URL": "bot.example.kz"}, "WEBHOOK_URL"),
    ({"WEBHOOK_URL": "https://bot.example.kz/t", "WEBHOOK_SECRET": "short"}, "WEBHOOK_SECRET"),
    ({"WEBHOOK_URL": "https://bot.example.kz/t", "WEBHOOK_SECRET": "a" * 20, "WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT"),
])
def test_bad_webhook_settings(extra: dict, named: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, **extra}, env_file=None, webhook=True)
    assert named in str(error.value)
