"""The knowledge base: categories, entries and synonyms, loaded from YAML and validated.

Every problem is reported with the file and line it comes from, in words an editor understands:
"knowledge/services/eds.yaml:42: entry eds-renew has no Kazakh answer".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot import text as textnorm

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
    return Path(__file__).resolve().parent.parent / "knowledge"


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
class KnowledgeBase:
    directory: Path
    categories: tuple[Category, ...]
    entries: tuple[Entry, ...]
    synonyms: tuple[SynonymGroup, ...]
    official_domains: tuple[str, ...]
    warnings: tuple[Problem, ...] = ()

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def entries_in(self, category_id: str) -> list[Entry]:
        return [e for e in self.entries if e.category == category_id]


# --- YAML with line numbers -------------------------------------------------------------------


class _Mapping(dict):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Sequence(list):
    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    pass


# libyaml's parser where PyYAML was built with it: several times faster, the same safe constructors.
# A file it rejects is read again by the pure-Python loader, whose error messages are more precise.
_FastLineLoader = type("_FastLineLoader", (yaml.CSafeLoader,), {}) if getattr(yaml, "__with_libyaml__", False) else None


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f'the key "{key}" appears twice in one block', key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _Sequence:
    sequence = _Sequence(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    # Dates stay text here and are checked later with their line: PyYAML would raise a bare
    # ValueError for an impossible date such as 2026-02-30.
    return loader.construct_scalar(node)


for _loader in filter(None, (_LineLoader, _FastLineLoader)):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_yaml(path: Path, shown: str, problems: list[Problem]) -> Any:
    """The file's YAML, its mappings and lists knowing their line numbers; None (and a problem) if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(shown, 0, "the file is not UTF-8 text; save it as UTF-8"))
        return None
    except OSError as error:
        problems.append(Problem(shown, 0, f"cannot read the file ({error.strerror})"))
        return None
    if _FastLineLoader is not None:
        try:
            return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 - a CSafeLoader subclass
        except yaml.YAMLError:
            pass  # reported below, as the pure-Python loader words it
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        reason = error.problem or "invalid YAML"
        hint = " (check the indentation and that text with ':' or '#' is in quotes)"
        problems.append(Problem(shown, line, f"not valid YAML: {reason}{hint}"))
        return None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        problems.append(Problem(shown, line, f"not valid YAML: the file contains a character YAML does not allow (code {error.character!r}); remove it"))
        return None
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        problems.append(Problem(shown, 0, f"not valid YAML: {reason}"))
        return None


def line_of(node: Any, key: str | None = None) -> int:
    """The line of a mapping's key, or of the node itself (0 when unknown)."""
    if isinstance(node, _Mapping):
        return node.key_lines.get(key, node.line) if key else node.line
    return getattr(node, "line", 0)


# --- loading ----------------------------------------------------------------------------------


class YamlChecker:
    """Collects problems with file:line; checks the {ru, kk} text blocks shared by every YAML file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.directory.parent))
        except ValueError:
            return str(path)

    def error(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def warn(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, "warning"))

    def texts(self, node: Any, key: str, path: str, owner: str, *, what: str) -> dict[str, str]:
        """A {ru, kk} block of non-empty strings; reports each missing language."""
        value = node.get(key)
        line = line_of(node, key)
        if not isinstance(value, dict):
            self.error(path, line, f"{owner} has no {what} (expected {key}: with ru: and kk:)")
            return {}
        result = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if text is None or (isinstance(text, str) and not text.strip()):
                self.error(path, line_of(value, lang) or line, f"{owner} has no {LANGUAGE_NAMES[lang]} {what}")
            elif not isinstance(text, (str, int, float)):
                self.error(path, line_of(value, lang), f"{owner}: {what} in {lang} must be text")
            else:
                result[lang] = str(text).strip()
        for extra in value:
            if extra not in LANGUAGES:
                self.error(path, line_of(value, extra), f"{owner}: unknown language '{extra}' in {key} (use ru and kk)")
        return result

    def text_lists(self, node: Any, key: str, path: str, owner: str, *, what: str, required: bool):
        value = node.get(key)
        line = line_of(node, key)
        if value is None:
            if required:
                self.error(path, line, f"{owner} has no {what}")
            return {}, {}
        if not isinstance(value, dict):
            self.error(path, line, f"{owner}: {key} must have ru: and kk: lists")
            return {}, {}
        result: dict[str, tuple[str, ...]] = {}
        lines: dict[str, int] = {}
        for lang in LANGUAGES:
            items = value.get(lang)
            if not items:
                self.error(path, line_of(value, lang) or line, f"{owner} has no {LANGUAGE_NAMES[lang]} {what}")
                continue
            if not isinstance(items, list):
                self.error(path, line_of(value, lang), f"{owner}: {what} in {lang} must be a list (lines starting with '- ')")
                continue
            kept = []
            for item, item_line in zip(items, getattr(items, "item_lines", [line] * len(items))):
                if not isinstance(item, (str, int, float)) or not str(item).strip():
                    self.error(path, item_line, f"{owner}: an empty or non-text item in {what} ({lang})")
                    continue
                text = str(item).strip()
                if text in kept:
                    self.warn(path, item_line, f"{owner}: '{text}' is listed twice")
                    continue
                kept.append(text)
                lines[f"{lang}:{text}"] = item_line
            result[lang] = tuple(kept)
        for extra in value:
            if extra not in LANGUAGES:
                self.error(path, line_of(value, extra), f"{owner}: unknown language '{extra}' in {key} (use ru and kk)")
        return result, lines

    def categories(self) -> list[Category]:
        path = self.directory / "categories.yaml"
        shown = self.shown(path)
        if not path.is_file():
            self.error(shown, 0, "the file is missing: it lists the categories")
            return []
        data = read_yaml(path, shown, self.problems)
        if data is None:
            return []
        if not isinstance(data, list):
            self.error(shown, line_of(data), "expected a list of categories (lines starting with '- id:')")
            return []
        result = []
        seen: set[str] = set()
        for position, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                self.error(shown, line_of(data), f"category #{position} is not a block with id and title")
                continue
            cat_id = item.get("id")
            if not isinstance(cat_id, str) or not ID_PATTERN.match(cat_id):
                self.error(shown, line_of(item, "id"), f"category #{position} needs an id in lower-case-with-dashes")
                continue
            if cat_id in seen:
                self.error(shown, line_of(item, "id"), f"category {cat_id} is listed twice")
                continue
            seen.add(cat_id)
            title = self.texts(item, "title", shown, f"category {cat_id}", what="title")
            order = item.get("order", position)
            if not isinstance(order, int):
                self.error(shown, line_of(item, "order"), f"category {cat_id}: order must be a whole number")
                order = position
            result.append(Category(cat_id, title, order))
        return sorted(result, key=lambda c: (c.order, c.id))

    def official_domains(self) -> tuple[str, ...]:
        path = self.directory / "settings.yaml"
        if not path.is_file():
            return DEFAULT_OFFICIAL_DOMAINS
        shown = self.shown(path)
        data = read_yaml(path, shown, self.problems)
        if not isinstance(data, dict):
            if data is not None:
                self.error(shown, line_of(data), "expected settings as 'key: value' lines")
            return DEFAULT_OFFICIAL_DOMAINS
        domains = data.get("official_domains", list(DEFAULT_OFFICIAL_DOMAINS))
        if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
            self.error(shown, line_of(data, "official_domains"), "official_domains must be a list of domain names")
            return DEFAULT_OFFICIAL_DOMAINS
        return tuple(d.lower().strip(".") for d in domains)

    def synonyms(self) -> list[SynonymGroup]:
        path = self.directory / "synonyms.yaml"
        shown = self.shown(path)
        if not path.is_file():
            return []
        data = read_yaml(path, shown, self.problems)
        if data is None:
            return []
        if not isinstance(data, list):
            self.error(shown, line_of(data), "expected a list of groups, each a list of words that mean the same")
            return []
        groups = []
        for position, (item, line) in enumerate(zip(data, data.item_lines), start=1):
            if not isinstance(item, list) or len(item) < 2:
                self.error(shown, line, f"synonym group #{position} must list at least two words, like [ЦОН, ХҚКО]")
                continue
            terms = tuple(str(term).strip() for term in item if str(term).strip())
            groups.append(SynonymGroup(terms, shown, line))
        return groups

    def entries(self, categories: set[str], domains: tuple[str, ...], today: dt.date) -> list[Entry]:
        services = self.directory / "services"
        if not services.is_dir():
            self.error(self.shown(services), 0, "the folder with service entries is missing")
            return []
        result = []
        for path in sorted(services.glob("*.y*ml")):
            shown = self.shown(path)
            data = read_yaml(path, shown, self.problems)
            if data is None:
                continue
            if not isinstance(data, list):
                self.error(shown, line_of(data), "expected a list of entries (each starting with '- id:')")
                continue
            for position, item in enumerate(data, start=1):
                entry = self.entry(item, position, shown, categories, domains, today)
                if entry is not None:
                    result.append(entry)
        return result

    def entry(self, item: Any, position: int, path: str, categories: set[str], domains, today) -> Entry | None:
        if not isinstance(item, dict):
            self.error(path, line_of(item), f"entry #{position} is not a block of 'key: value' lines")
            return None
        entry_id = item.get("id")
        if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
            self.error(path, line_of(item, "id"), f"entry #{position} needs an id in lower-case-with-dashes, like eds-renew")
            return None
        owner = f"entry {entry_id}"
        known = {"id", "category", "title", "questions", "answer", "steps", "links", "source", "reviewed"}
        for key in item:
            if key not in known:
                self.error(path, line_of(item, key), f"{owner}: unknown field '{key}' (known: {', '.join(sorted(known))})")
        category = item.get("category")
        if not isinstance(category, str) or not category:
            self.error(path, line_of(item), f"{owner} has no category")
            category = ""
        elif category not in categories:
            self.error(path, line_of(item, "category"), f"{owner}: unknown category '{category}' (see categories.yaml)")
        title = self.texts(item, "title", path, owner, what="title")
        answer = self.texts(item, "answer", path, owner, what="answer")
        for lang, text in answer.items():
            line = line_of(item.get("answer"), lang)
            if len(text) > ANSWER_HARD_LIMIT:
                self.error(path, line, f"{owner}: the {LANGUAGE_NAMES[lang]} answer has {len(text)} characters; keep it under {ANSWER_SOFT_LIMIT} (move details to steps)")
            elif len(text) > ANSWER_SOFT_LIMIT:
                self.warn(path, line, f"{owner}: the {LANGUAGE_NAMES[lang]} answer has {len(text)} characters; aim for at most {ANSWER_SOFT_LIMIT}")
        questions, question_lines = self.text_lists(item, "questions", path, owner, what="questions", required=True)
        total = sum(len(q) for q in questions.values())
        if questions and total < MIN_QUESTIONS:
            self.error(path, line_of(item, "questions"), f"{owner} has {total} question variants; write at least {MIN_QUESTIONS}")
        if "kk" in questions and len(questions["kk"]) < MIN_KAZAKH_QUESTIONS:
            self.error(path, line_of(item, "questions"), f"{owner} has {len(questions['kk'])} Kazakh questions; write at least {MIN_KAZAKH_QUESTIONS}")
        steps, _ = self.text_lists(item, "steps", path, owner, what="steps", required=False)
        if len(steps) == 2 and len(steps["ru"]) != len(steps["kk"]):
            self.error(path, line_of(item, "steps"), f"{owner}: {len(steps['ru'])} Russian steps but {len(steps['kk'])} Kazakh ones; they must match")
        links = self.links(item, path, owner, domains)
        source = item.get("source")
        if not isinstance(source, str) or not source.strip():
            self.error(path, line_of(item), f"{owner} has no source (where the facts were checked)")
            source = ""
        elif not any(not is_home_page(url) for url in URL_IN_TEXT.findall(source)):
            self.warn(path, line_of(item, "source"), f"{owner}: the source names no specific page (only site names or home pages); "
                                                     f"give the full address of each page the facts come from, like https://egov.kz/cms/ru/services/...")
        reviewed = item.get("reviewed")
        if isinstance(reviewed, str):
            try:
                reviewed = dt.date.fromisoformat(reviewed.strip())
            except ValueError:
                self.error(path, line_of(item, "reviewed"), f"{owner} needs reviewed: with a date like 2026-11-26 ('{reviewed}' is not a real date)")
                reviewed = dt.date.min
        if reviewed == dt.date.min:
            pass
        elif not isinstance(reviewed, dt.date):
            self.error(path, line_of(item, "reviewed") or line_of(item), f"{owner} needs reviewed: with a date like 2026-11-26")
            reviewed = dt.date.min
        elif reviewed > today:
            self.error(path, line_of(item, "reviewed"), f"{owner}: reviewed date {reviewed} is in the future")
        elif (today - reviewed).days > REVIEW_MAX_AGE_DAYS:
            self.warn(path, line_of(item, "reviewed"), f"{owner} was last reviewed on {reviewed}, over a year ago: check the facts again")
        return Entry(
            id=entry_id, category=category, title=title, questions=questions, answer=answer, steps=steps,
            links=links, source=source.strip(), reviewed=reviewed, path=path, line=line_of(item),
            question_lines=question_lines,
        )

    def links(self, item: Any, path: str, owner: str, domains: tuple[str, ...]) -> tuple[Link, ...]:
        value = item.get("links")
        if value is None:
            self.warn(path, line_of(item), f"{owner} has no links: add the official page of the service")
            return ()
        if not isinstance(value, list):
            self.error(path, line_of(item, "links"), f"{owner}: links must be a list of blocks with title and url")
            return ()
        result = []
        for link in value:
            if not isinstance(link, dict) or not isinstance(link.get("url"), (str, dict)):
                self.error(path, line_of(link) or line_of(item, "links"), f"{owner}: each link needs url: and title:")
                continue
            urls = self.link_urls(link, path, owner, domains)
            if "ru" not in urls:
                continue
            url = urls["ru"]
            title = link.get("title")
            if isinstance(title, str):
                titles = {lang: title for lang in LANGUAGES}
            else:
                titles = self.texts(link, "title", path, f"{owner}, link {url}", what="title")
            kk_url = urls.get("kk", url)
            if russian_only_page(kk_url):
                where = line_of(link["url"], "kk") if "kk" in urls and isinstance(link["url"], dict) else line_of(link, "url")
                self.warn(path, where, f"{owner}: link {kk_url} gives Kazakh readers a Russian-language page; "
                                       f"add its Kazakh address (url: {{ru: ..., kk: ...}})")
            result.append(Link(titles, url, urls if isinstance(link["url"], dict) else {}))
        if result and all(is_home_page(u) for link in result for u in {link.url, *link.urls.values()}):
            shown = ", ".join(dict.fromkeys(link.url for link in result))
            self.warn(path, line_of(item, "links"), f"{owner}: every link is only a site's home page ({shown}); "
                                                    f"link the page of the service itself")
        return tuple(result)

    def link_urls(self, link: Any, path: str, owner: str, domains: tuple[str, ...]) -> dict[str, str]:
        """A link's url: one string (for every language) or {ru: ..., kk: ...}; each checked with its line."""
        value = link["url"]
        if isinstance(value, str):
            given = {"ru": (value, line_of(link, "url"))}
        else:
            given = {}
            for lang, url in value.items():
                line = line_of(value, lang)
                if lang not in LANGUAGES:
                    self.error(path, line, f"{owner}: unknown language '{lang}' in a link's url (use ru and kk)")
                elif not isinstance(url, str) or not url.strip():
                    self.error(path, line, f"{owner}: the {LANGUAGE_NAMES[lang]} url of a link must be an address")
                else:
                    given[lang] = (url, line)
            if "ru" not in value:
                self.error(path, line_of(link, "url"), f"{owner}: a link's url needs a Russian address (url: {{ru: ..., kk: ...}}); the Kazakh one is optional")
        result = {}
        for lang, (url, line) in given.items():
            url = url.strip()
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            if parts.scheme != "https":
                self.error(path, line, f"{owner}: link {url} must start with https://")
            elif not any(host == d or host.endswith("." + d) for d in domains):
                self.error(path, line, f"{owner}: link {url} is not on an official site ({', '.join(domains)}; see settings.yaml)")
            result[lang] = url
        return result


def _check_relations(entries: list[Entry], groups: list[SynonymGroup], loader: YamlChecker) -> None:
    """Problems between entries and between synonym groups."""
    first_seen: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in first_seen:
            other = first_seen[entry.id]
            loader.error(entry.path, entry.line, f"entry id {entry.id} is used twice (also {other.path}:{other.line})")
        else:
            first_seen[entry.id] = entry
    owner_of: dict[str, Entry] = {}
    for entry in entries:
        for lang, question in entry.all_questions():
            key = " ".join(textnorm.stems(question))
            if not key:
                loader.error(entry.path, entry.question_lines.get(f"{lang}:{question}", entry.line),
                             f"entry {entry.id}: question '{question}' has no words")
                continue
            other = owner_of.get(key)
            if other is not None and other.id != entry.id:
                loader.error(entry.path, entry.question_lines.get(f"{lang}:{question}", entry.line),
                             f"the question '{question}' is in two entries: {other.id} and {entry.id}")
            owner_of.setdefault(key, entry)
    group_of: dict[str, SynonymGroup] = {}
    for group in groups:
        for term in group.terms:
            key = " ".join(textnorm.stems(term))
            if not key:
                loader.error(group.path, group.line, f"synonym '{term}' has no letters")
                continue
            other = group_of.get(key)
            if other is not None and other is not group:
                loader.error(group.path, group.line, f"'{term}' is in two synonym groups ({other.canonical} at line {other.line}, and {group.canonical}): they conflict")
            group_of.setdefault(key, group)


def load_knowledge(directory: Path | str, *, today: dt.date | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base; raise KnowledgeError listing every problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), 0, "the knowledge directory does not exist")])
    today = today or dt.date.today()
    loader = YamlChecker(directory)
    categories = loader.categories()
    domains = loader.official_domains()
    groups = loader.synonyms()
    entries = loader.entries({c.id for c in categories}, domains, today)
    if not entries and not any(p.severity == "error" for p in loader.problems):
        loader.error(loader.shown(directory / "services"), 0, "no entries found: add services/*.yaml files")
    _check_relations(entries, groups, loader)
    if any(p.severity == "error" for p in loader.problems):
        raise KnowledgeError(loader.problems)
    return KnowledgeBase(
        directory=directory,
        categories=tuple(categories),
        entries=tuple(entries),
        synonyms=tuple(groups),
        official_domains=domains,
        warnings=tuple(loader.problems),
    )
