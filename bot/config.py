"""Settings: the only place that reads os.environ. Read once at start by `egov-bot run`.

Every command resolves a setting the same way (see `environment`): its command-line option, then the
environment, then a .env file in the current directory, then the setting's default."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.knowledge import bundled_knowledge_dir

DEFAULT_HOURS = "Mon-Fri 09:00-18:00"
DEFAULT_TIMEZONE = "Asia/Almaty"
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_HOURS_PART = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+"
                         r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")


class ConfigError(Exception):
    """A missing or malformed setting; the message names it in one line."""


@dataclass(frozen=True)
class LibrarianHours:
    """When librarians answer: e.g. "Mon-Fri 09:00-18:00; Sat 10:00-14:00" in a time zone."""

    text: str
    windows: tuple[tuple[int, dt.time, dt.time], ...]  # (weekday, start, end)
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str = DEFAULT_TIMEZONE) -> "LibrarianHours":
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"LIBRARIAN_TIMEZONE: unknown time zone {zone!r} (e.g. Asia/Almaty)") from None
        windows = []
        for part in filter(None, (p.strip() for p in text.split(";"))):
            match = _HOURS_PART.match(part.lower())
            if not match:
                raise ConfigError(f"LIBRARIAN_HOURS: cannot read {part!r} (expected e.g. 'Mon-Fri 09:00-18:00')")
            try:
                start = dt.time.fromisoformat(match["start"].zfill(5))
                end = dt.time.fromisoformat(match["end"].zfill(5))
            except ValueError:
                raise ConfigError(f"LIBRARIAN_HOURS: {part!r} has an impossible time") from None
            if end <= start:
                raise ConfigError(f"LIBRARIAN_HOURS: in {part!r} the end is not after the start")
            for span in match["days"].split(","):
                first, _, last = span.partition("-")
                if first not in _DAYS or (last and last not in _DAYS):
                    raise ConfigError(f"LIBRARIAN_HOURS: unknown day in {part!r} (use Mon Tue Wed Thu Fri Sat Sun)")
                day, stop = _DAYS[first], _DAYS[last or first]
                while True:
                    windows.append((day, start, end))
                    if day == stop:
                        break
                    day = (day + 1) % 7
        if not windows:
            raise ConfigError("LIBRARIAN_HOURS: empty (expected e.g. 'Mon-Fri 09:00-18:00')")
        return cls(text, tuple(sorted(windows)), tz)

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone)
        return any(day == local.weekday() and start <= local.time() < end for day, start, end in self.windows)

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The next time librarians start work after `moment` (in the librarians' time zone)."""
        local = moment.astimezone(self.zone)
        for offset in range(0, 8):
            date = local.date() + dt.timedelta(days=offset)
            for day, start, _ in self.windows:
                if day == date.weekday():
                    candidate = dt.datetime.combine(date, start, self.zone)
                    if candidate > local:
                        return candidate
        return local  # unreachable with at least one window


@dataclass(frozen=True)
class Webhook:
    """`egov-bot run --webhook`: where Telegram posts updates, and the secret it must send."""

    url: str
    secret: str
    listen: str
    port: int

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.strip("/")

    @classmethod
    def from_values(cls, get) -> "Webhook":
        url = get("WEBHOOK_URL")
        if not url:
            raise ConfigError("WEBHOOK_URL is not set: the public https address Telegram posts updates to")
        if not re.match(r"^https?://[^/\s]+", url):
            raise ConfigError(f"WEBHOOK_URL must be an http(s) address, not {url!r}")
        secret = get("WEBHOOK_SECRET")
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ConfigError("WEBHOOK_SECRET must be 16-256 letters, digits, _ or - (Telegram sends it with every update)")
        port = get("WEBHOOK_PORT") or "8443"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"WEBHOOK_PORT must be a port number, not {port!r}")
        return cls(url, secret, get("WEBHOOK_LISTEN") or "127.0.0.1", int(port))


@dataclass(frozen=True)
class Settings:
    token: str
    librarian_chat_id: int
    database_url: str
    knowledge_dir: Path
    base_url: str | None
    editor_ids: frozenset[int]
    hours: LibrarianHours
    query_log_days: int = 90
    webhook: "Webhook | None" = None
    flood_limit: int = 10    # messages a citizen may send per minute (0: no limit)
    send_rate: float = 30.0  # messages a second the bot sends overall (Telegram's limit is about 30)
    instance_timeout: float = 60.0  # seconds an instance may be silent before others take over its updates
    ticket_idle_hours: float = 72.0  # an answered ticket silent this long closes by itself
    take_reminder_minutes: float = 30.0  # working minutes an untaken ticket waits before a reminder (0: none)
    reply_reminder_minutes: float = 60.0  # working minutes a taken, unanswered ticket waits before one (0: none)


    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env"), *,
                 options: Mapping[str, str | None] | None = None, webhook: bool = False) -> "Settings":
        """Settings from the command-line options given, the environment and an optional .env file."""
        values = environment(env_file, environ, options)

        def get(name: str) -> str:
            return resolved(values, name) or ""

        token = get("TELEGRAM_BOT_TOKEN")
        if not token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in the environment or .env")
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            raise ConfigError("TELEGRAM_BOT_TOKEN looks malformed (expected digits, a colon and letters, like 123456:ABC-def)")
        chat = get("LIBRARIAN_CHAT_ID")
        if not chat:
            raise ConfigError("LIBRARIAN_CHAT_ID is not set: the id of the librarians' group (a negative number)")
        if not re.fullmatch(r"-?\d+", chat):
            raise ConfigError(f"LIBRARIAN_CHAT_ID must be a number (the group's id), not {chat!r}")
        knowledge = knowledge_dir(values)
        if not knowledge.is_dir():
            raise ConfigError(f"KNOWLEDGE_DIR: no such directory {knowledge}")
        base_url = get("TELEGRAM_BASE_URL") or None
        if base_url and not re.match(r"^https?://", base_url):
            raise ConfigError(f"TELEGRAM_BASE_URL must start with http:// or https://, not {base_url!r}")
        editors = set()
        for item in filter(None, re.split(r"[,\s]+", get("EDITOR_IDS"))):
            if not re.fullmatch(r"\d+", item):
                raise ConfigError(f"EDITOR_IDS must be Telegram user ids separated by commas, not {item!r}")
            editors.add(int(item))
        hours = librarian_hours(values)
        take, reply = reminder_minutes(values)
        flood = get("FLOOD_LIMIT") or "10"
        if not flood.isdigit():
            raise ConfigError(f"FLOOD_LIMIT must be a whole number of messages a minute (0: no limit), not {flood!r}")
        rate = get("SEND_RATE") or "30"
        try:
            send_rate = float(rate)
        except ValueError:
            send_rate = 0.0
        if send_rate <= 0:
            raise ConfigError(f"SEND_RATE must be a positive number of messages a second, not {rate!r}")
        timeout = get("INSTANCE_TIMEOUT") or "60"
        if not timeout.isdigit() or int(timeout) < 3:
            raise ConfigError(f"INSTANCE_TIMEOUT must be a whole number of seconds (at least 3), not {timeout!r}")
        idle = get("TICKET_IDLE_HOURS") or "72"
        if not idle.isdigit() or int(idle) < 1:
            raise ConfigError(f"TICKET_IDLE_HOURS must be a whole number of hours (at least 1), not {idle!r}")
        days = get("QUERY_LOG_DAYS") or "90"
        if not days.isdigit() or int(days) < 1:
            raise ConfigError(f"QUERY_LOG_DAYS must be a whole number of days (at least 1), not {days!r}")
        return cls(
            token=token,
            librarian_chat_id=int(chat),
            database_url=database_url(values),
            knowledge_dir=knowledge,
            base_url=base_url,
            editor_ids=frozenset(editors),
            hours=hours,
            query_log_days=int(days),
            webhook=Webhook.from_values(get) if webhook else None,
            flood_limit=int(flood),
            send_rate=send_rate,
            instance_timeout=float(timeout),
            ticket_idle_hours=float(idle),
            take_reminder_minutes=take,
            reply_reminder_minutes=reply,
        )


def librarian_hours(values: Mapping[str, str]) -> LibrarianHours:
    """LIBRARIAN_HOURS in LIBRARIAN_TIMEZONE (ConfigError naming the one that is malformed)."""
    return LibrarianHours.parse(resolved(values, "LIBRARIAN_HOURS", DEFAULT_HOURS),
                                resolved(values, "LIBRARIAN_TIMEZONE", DEFAULT_TIMEZONE))


def reminder_minutes(values: Mapping[str, str]) -> tuple[float, float]:
    """TAKE_REMINDER_MINUTES (default 30) and REPLY_REMINDER_MINUTES (default 60): working minutes, 0 turns one off."""
    found = []
    for name, default in (("TAKE_REMINDER_MINUTES", "30"), ("REPLY_REMINDER_MINUTES", "60")):
        text = resolved(values, name, default)
        try:
            minutes = float(text)
        except ValueError:
            minutes = -1.0
        if not 0 <= minutes <= 100_000:
            raise ConfigError(f"{name} must be a number of working minutes (0: no reminder), not {text!r}")
        found.append(minutes)
    return found[0], found[1]


def environment(env_file: Path | None = Path(".env"), environ: Mapping[str, str] | None = None,
                options: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Every setting by precedence: a command-line option that was given (named by its setting, e.g.
    {"DATABASE_URL": args.database}), else the environment, else the .env file."""
    values = dict(read_env_file(env_file)) if env_file else {}
    values.update(environ if environ is not None else os.environ)
    values.update({name: value for name, value in (options or {}).items() if value})
    return values


def setting(name: str, option: str | None = None, default: str | None = None) -> str | None:
    """One setting for any command: the command-line option, else the environment, else .env, else the default."""
    return resolved(environment(options={name: option}), name, default)


def resolved(values: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """A setting of `values` (see `environment`); a blank one is not set."""
    return values.get(name, "").strip() or default


def knowledge_dir(values: Mapping[str, str]) -> Path:
    """KNOWLEDGE_DIR, else the bundled knowledge/ (whether it exists is for the caller to say)."""
    return Path(resolved(values, "KNOWLEDGE_DIR") or bundled_knowledge_dir()).expanduser()


def database_url(values: Mapping[str, str]) -> str:
    """DATABASE_URL, else ./egov-bot.sqlite3."""
    from bot.storage import default_database_url  # here: bot.storage imports SQLAlchemy, which `match` does not need

    return resolved(values, "DATABASE_URL") or default_database_url()


CACHE_OFF = frozenset({"off", "none", "no", "0", "false"})


def cache_directory(values: Mapping[str, str] | None = None) -> Path | None:
    """Where egov-bot keeps what it can rebuild (the compiled matcher index): EGOV_BOT_CACHE_DIR, else
    $XDG_CACHE_HOME/egov-bot, else ~/.cache/egov-bot; None when EGOV_BOT_CACHE_DIR is "off" (or 0, no)."""
    values = environment() if values is None else values
    chosen = values.get("EGOV_BOT_CACHE_DIR", "").strip()
    if chosen.lower() in CACHE_OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    xdg = values.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative value is to be ignored
        return Path(xdg) / "egov-bot"
    home = values.get("HOME", "").strip()
    try:
        return (Path(home) if home else Path.home()) / ".cache" / "egov-bot"
    except RuntimeError:  # no home directory to be found: no cache
        return None


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines of a .env file (comments and blank lines skipped; quotes around values removed)."""
    if not path.is_file():
        return {}
    values = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values
