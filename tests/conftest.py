"""Shared fixtures: the bundled knowledge base and matcher (built once), a tiny knowledge base that tests
break one thing at a time, and a ticket store on SQLite under tmp_path."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.helpdesk import Knowledge
from bot.knowledge import KnowledgeBase, bundled_knowledge_dir, load_knowledge
from bot.matching import Matcher
from bot.storage import Storage


@pytest.fixture(scope="session", autouse=True)
def _index_cache_dir(tmp_path_factory):
    """The compiled-index cache of every test (and of the processes tests start) under pytest's tmp dir,
    never the developer's ~/.cache."""
    os.environ["EGOV_BOT_CACHE_DIR"] = str(tmp_path_factory.mktemp("index-cache"))
    yield


# --- a tiny, valid knowledge base -------------------------------------------------------------

TINY_CATEGORIES = """\
# Categories of the tiny test knowledge base.
- id: eds
  order: 1
  title: {ru: "ЭЦП", kk: "ЭЦҚ"}
- id: documents
  order: 2
  title: {ru: "Справки", kk: "Анықтамалар"}
"""

TINY_SETTINGS = """\
official_domains:
  - egov.kz
  - pki.gov.kz
"""

TINY_SYNONYMS = """\
- [эцп, электронная цифровая подпись, эцқ]
- [справка, анықтама]
- [судимость, несудимость, соттылық]
"""

# {REVIEWED} is replaced with a recent date, so the tiny base never ages into warnings.
TINY_SERVICES = """\
- id: tiny-eds
  category: eds
  title:
    ru: Как получить ЭЦП
    kk: ЭЦҚ қалай алуға болады
  questions:
    ru:
      - как получить эцп
      - где взять электронную цифровую подпись
      - эцп онлайн через биометрию
      - выпуск эцп для физического лица
      - нужна эцп для входа на портал
    kk:
      - эцқ қалай алуға болады
      - биометрия арқылы эцқ алу
      - эцқ қайдан аламын
  answer:
    ru: Получите ЭЦП онлайн на pki.gov.kz с биометрией.
    kk: ЭЦҚ-ны pki.gov.kz сайтынан биометриямен алыңыз.
  steps:
    ru:
      - Откройте pki.gov.kz.
      - Пройдите биометрию.
    kk:
      - pki.gov.kz сайтын ашыңыз.
      - Биометриядан өтіңіз.
  links:
    - title: {ru: "НУЦ РК", kk: "ҚР ҰКО"}
      url: https://pki.gov.kz
  source: "pki.gov.kz (test)"
  reviewed: {REVIEWED}

- id: tiny-criminal
  category: documents
  title:
    ru: Справка о несудимости
    kk: Соттылық туралы анықтама
  questions:
    ru:
      - справка о несудимости
      - как получить справку о судимости
      - где взять справку что не судим
      - справка об отсутствии судимости онлайн
      - несудимость для работы
    kk:
      - соттылық туралы анықтама
      - соттылық анықтамасын қалай аламын
      - сотталмағаным туралы қағаз
  answer:
    ru: Справку о несудимости закажите на egov.kz.
    kk: Соттылық туралы анықтаманы egov.kz сайтынан алыңыз.
  links:
    - title: "egov.kz"
      url: https://egov.kz/cms/ru
  source: "egov.kz (test)"
  reviewed: {REVIEWED}

- id: tiny-address
  category: documents
  title:
    ru: Адресная справка
    kk: Мекенжай анықтамасы
  questions:
    ru:
      - адресная справка
      - справка с места жительства
      - где взять адресную справку
      - справка о регистрации по адресу
      - адресная справка онлайн
    kk:
      - мекенжай анықтамасы
      - мекенжай анықтамасын алу
      - тұрғылықты мекенжай туралы анықтама
  answer:
    ru: Адресную справку закажите на egov.kz.
    kk: Мекенжай анықтамасын egov.kz сайтынан алыңыз.
  links:
    - title: {ru: "Электронное правительство", kk: "Электрондық үкімет"}
      url: https://egov.kz/cms/ru
  source: "egov.kz (test)"
  reviewed: {REVIEWED}
"""

TINY_IDS = ("tiny-eds", "tiny-criminal", "tiny-address")
_DEFAULT = object()


@dataclass(frozen=True)
class TinyKB:
    """A knowledge base written under tmp_path, with helpers to break one thing and find its line."""

    directory: Path

    def path(self, name: str) -> Path:
        return self.directory / name

    def shown(self, name: str) -> str:
        """The file as problems name it: relative to the knowledge directory's parent."""
        return f"{self.directory.name}/{name}"

    def read(self, name: str) -> str:
        return self.path(name).read_text(encoding="utf-8")

    def write(self, name: str, text: str | bytes) -> None:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    def replace(self, name: str, old: str, new: str, count: int = 1) -> None:
        text = self.read(name)
        assert old in text, f"{old!r} is not in {name}"
        self.write(name, text.replace(old, new, count))

    def line(self, name: str, needle: str, nth: int = 1) -> int:
        """1-based line number of the nth line of a file that contains needle."""
        found = [n for n, line in enumerate(self.read(name).splitlines(), start=1) if needle in line]
        assert len(found) >= nth, f"{needle!r} occurs {len(found)} times in {name}"
        return found[nth - 1]


def recent_date() -> dt.date:
    return dt.date.today() - dt.timedelta(days=30)


def make_kb(tmp_path: Path, *, categories=_DEFAULT, settings=_DEFAULT, synonyms=_DEFAULT, services=_DEFAULT,
            reviewed: dt.date | None = None, name: str = "knowledge") -> TinyKB:
    """Write a tiny valid knowledge base into tmp_path/name. Pass None for a file to leave it out,
    text (or bytes) to write it instead of the default; `services` maps file names to texts."""
    kb = TinyKB(tmp_path / name)
    kb.directory.mkdir(parents=True, exist_ok=True)
    reviewed_text = (reviewed or recent_date()).isoformat()
    files = {
        "categories.yaml": TINY_CATEGORIES if categories is _DEFAULT else categories,
        "settings.yaml": TINY_SETTINGS if settings is _DEFAULT else settings,
        "synonyms.yaml": TINY_SYNONYMS if synonyms is _DEFAULT else synonyms,
    }
    service_files = {"x.yaml": TINY_SERVICES} if services is _DEFAULT else (services or {})
    for file_name, text in service_files.items():
        files[f"services/{file_name}"] = text
    for file_name, text in files.items():
        if text is None:
            continue
        if isinstance(text, str):
            text = text.replace("{REVIEWED}", reviewed_text)
        kb.write(file_name, text)
    return kb


@pytest.fixture(name="make_kb")
def make_kb_fixture():
    """The make_kb(tmp_path, ...) helper."""
    return make_kb


@pytest.fixture
def tiny_kb(tmp_path: Path) -> TinyKB:
    return make_kb(tmp_path)


# --- the bundled knowledge base ---------------------------------------------------------------


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(bundled_knowledge_dir())


@pytest.fixture(scope="session")
def knowledge(kb: KnowledgeBase) -> Knowledge:
    return Knowledge(kb)


@pytest.fixture(scope="session")
def matcher(knowledge: Knowledge) -> Matcher:
    return knowledge.matcher


# --- the ticket store -------------------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tickets.sqlite3"


@pytest.fixture
async def store(db_path: Path):
    ticket_store = Storage.from_url(f"sqlite+aiosqlite:///{db_path}")
    await ticket_store.create_schema()
    try:
        yield ticket_store
    finally:
        await ticket_store.dispose()


# --- both databases: SQLite and a real PostgreSQL server --------------------------------------------


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session (skipped without binaries, except in CI where that fails)."""
    from pg import PostgresServer

    server = PostgresServer()
    if not server.available:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found: .ci/run should have installed them")
        pytest.skip("PostgreSQL is not installed here")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_store(request, tmp_path: Path):
    """The ticket store on SQLite and on PostgreSQL: storage behaviour must not depend on the database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    ticket_store = Storage.from_url(url)
    ticket_store.url = url  # a second instance can open the same database
    await ticket_store.create_schema()
    try:
        yield ticket_store
    finally:
        await ticket_store.dispose()
