"""The knowledge base as plain data: categories, entries with their answers and links, synonym groups; and
the problems an editor is told about, each with file and line."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LANGUAGES = ("ru", "kk")
LANGUAGE_NAMES = {"ru": "Russian", "kk": "Kazakh"}
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ANSWER_SOFT_LIMIT = 1000  # characters; a warning above it
ANSWER_HARD_LIMIT = 1500  # an error above it: too long for a phone screen
MIN_QUESTIONS = 8
MIN_KAZAKH_QUESTIONS = 3
REVIEW_MAX_AGE_DAYS = 365
DEFAULT_OFFICIAL_DOMAINS = (
    "egov.kz", "gov.kz", "pki.gov.kz", "adilet.zan.kz", "enpf.kz", "kgd.gov.kz", "enbek.kz",
)


URL_IN_TEXT = re.compile(r"https?://[^\s;,()<>\"']+")
_HOME_SEGMENTS = ({"ru", "kk", "kz", "en"}, {"cms"})


def is_home_page(url: str) -> bool:
    """True for a site's front page: an empty path or "/", or only a language part such as /ru or /cms/kk."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if not parts:
        return True
    languages, prefixes = _HOME_SEGMENTS
    return parts[-1].lower() in languages and all(p.lower() in prefixes for p in parts[:-1])


def russian_only_page(url: str) -> bool:
    """True for the Russian version of a page that also exists in Kazakh: egov.kz/cms/ru/...,
    gov.kz ...?lang=ru, adilet.zan.kz/rus/..."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = [p.lower() for p in parts.path.split("/") if p]
    query = parts.query.lower().replace("%20", "")
    if host == "egov.kz" or host.endswith(".egov.kz"):
        return segments[:2] == ["cms", "ru"]
    if host == "gov.kz" or host == "www.gov.kz":
        return re.search(r"(?:^|&)lang=ru(?:&|$)", query) is not None
    if host == "adilet.zan.kz" or host.endswith(".adilet.zan.kz"):
        return segments[:1] == ["rus"]
    return False


def bundled_knowledge_dir() -> Path:
    """The knowledge/ directory shipped beside the bot package."""
    return Path(__file__).resolve().parents[2] / "knowledge"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the knowledge base, with where it is."""

    path: str
    line: int
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base cannot be loaded; `problems` says why, each with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(str(errors[0]) if errors else "knowledge base has errors")


@dataclass(frozen=True)
class Link:
    """An official page. `url` is the Russian (default) address; `urls` holds one per language where
    the YAML gives `url: {ru: ..., kk: ...}`."""

    title: dict[str, str]
    url: str
    urls: dict[str, str] = field(default_factory=dict)

    def url_for(self, lang: str) -> str:
        """The address for readers of `lang`, falling back to the Russian one."""
        return self.urls.get(lang) or self.url


@dataclass(frozen=True)
class Category:
    id: str
    title: dict[str, str]
    order: int


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    title: dict[str, str]
    questions: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    steps: dict[str, tuple[str, ...]]
    links: tuple[Link, ...]
    source: str
    reviewed: dt.date
    path: str = ""
    line: int = 0
    question_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def all_questions(self) -> list[tuple[str, str]]:
        """Every question variant with its language, in file order."""
        return [(lang, q) for lang in LANGUAGES for q in self.questions.get(lang, ())]


@dataclass(frozen=True)
class SynonymGroup:
    terms: tuple[str, ...]
    path: str = ""
    line: int = 0

    @property
    def canonical(self) -> str:
        return self.terms[0]


@dataclass(frozen=True)
class CannedReply:
    """A ready reply a librarian sends with `/r ID` (knowledge/replies.yaml): a title for the list, a text per
    language."""

    id: str
    title: dict[str, str]
    text: dict[str, str]
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class Holiday:
    """A public holiday (a day off) of settings.yaml: librarians do not work on it."""

    date: dt.date
    name: str
    moves: bool = False  # its date changes every year (Курбан айт): to be checked each year


@dataclass(frozen=True)
class Notice:
    """A temporary change (knowledge/notices.yaml): shown under the answers it concerns from `starts` to `ends`,
    both days included."""

    id: str
    text: dict[str, str]
    entries: tuple[str, ...]
    categories: tuple[str, ...]
    starts: dt.date
    ends: dt.date
    path: str = ""
    line: int = 0

    def active_on(self, day: dt.date) -> bool:
        return self.starts <= day <= self.ends

    def concerns(self, entry: "Entry") -> bool:
        return entry.id in self.entries or entry.category in self.categories


@dataclass(frozen=True)
class KnowledgeBase:
    directory: Path
    categories: tuple[Category, ...]
    entries: tuple[Entry, ...]
    synonyms: tuple[SynonymGroup, ...]
    official_domains: tuple[str, ...]
    warnings: tuple[Problem, ...] = ()
    replies: tuple[CannedReply, ...] = ()  # librarians' canned replies, in file order

    def reply(self, reply_id: str) -> CannedReply | None:
        return next((r for r in self.replies if r.id == reply_id), None)
    holidays: tuple[Holiday, ...] = ()  # settings.yaml: the days off of the librarians' working time
    notices: tuple[Notice, ...] = ()  # notices.yaml: temporary changes, in file order

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def entries_in(self, category_id: str) -> list[Entry]:
        return [e for e in self.entries if e.category == category_id]
