"""Loading the knowledge base from YAML and validating it.

Every problem is reported with the file and line it comes from, in words an editor understands:
"knowledge/services/eds.yaml:42: entry eds-renew has no Kazakh answer".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot import text as textnorm
from bot.knowledge.model import (ANSWER_HARD_LIMIT, ANSWER_SOFT_LIMIT, DEFAULT_OFFICIAL_DOMAINS, ID_PATTERN,
                                 LANGUAGE_NAMES, LANGUAGES, MIN_KAZAKH_QUESTIONS, MIN_QUESTIONS, REVIEW_MAX_AGE_DAYS,
                                 URL_IN_TEXT, Category, Entry, KnowledgeBase, KnowledgeError, Link, Problem,
                                 SynonymGroup, is_home_page, russian_only_page)
from bot.knowledge.replies import load_replies
from bot.knowledge.holidays import read_holidays
from bot.knowledge.notices import load_notices
from bot.knowledge.model import Holiday
from bot.knowledge.checking import YamlChecker
from bot.knowledge.yaml_lines import line_of, read_yaml


ENTRY_FIELDS = ("answer", "category", "id", "links", "questions", "reviewed", "source", "steps", "title")


class KnowledgeChecker(YamlChecker):
    """The checks of the knowledge base's own files: categories, settings, synonyms, entries and their links."""

    def categories(self) -> list[Category]:
        shown, data = self.read("categories.yaml", required="lists the categories")
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

    def settings(self) -> Any:
        """settings.yaml as read (once: its problems are reported once); None when there is none."""
        if not hasattr(self, "_settings"):
            path = self.directory / "settings.yaml"
            self._settings = read_yaml(path, self.shown(path), self.problems) if path.is_file() else None
        return self._settings

    def holidays(self, today: dt.date) -> tuple[Holiday, ...]:
        data = self.settings()
        return read_holidays(self, data, self.shown(self.directory / "settings.yaml"), today) if isinstance(data, dict) else ()

    def official_domains(self) -> tuple[str, ...]:
        path = self.directory / "settings.yaml"
        if not path.is_file():
            return DEFAULT_OFFICIAL_DOMAINS
        shown = self.shown(path)
        data = self.settings()
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
        shown, data = self.read("synonyms.yaml")
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
        entry_id = self.block_id(item, position, path, "entry", ENTRY_FIELDS, shape="of 'key: value' lines",
                                 example="eds-renew")
        if entry_id is None:
            return None
        owner = f"entry {entry_id}"
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
    loader = KnowledgeChecker(directory)
    categories = loader.categories()
    domains = loader.official_domains()
    holidays = loader.holidays(today)
    groups = loader.synonyms()
    entries = loader.entries({c.id for c in categories}, domains, today)
    if not entries and not any(p.severity == "error" for p in loader.problems):
        loader.error(loader.shown(directory / "services"), 0, "no entries found: add services/*.yaml files")
    _check_relations(entries, groups, loader)
    replies = load_replies(loader, domains)
    notices = load_notices(loader, {e.id for e in entries}, {c.id for c in categories}, domains, today)
    if any(p.severity == "error" for p in loader.problems):
        raise KnowledgeError(loader.problems)
    return KnowledgeBase(
        directory=directory,
        categories=tuple(categories),
        entries=tuple(entries),
        synonyms=tuple(groups),
        official_domains=domains,
        warnings=tuple(loader.problems),
        replies=tuple(replies),
        holidays=holidays,
        notices=tuple(notices),
    )
