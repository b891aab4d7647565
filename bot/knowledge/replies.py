"""knowledge/replies.yaml: the librarians' canned replies (`/r ID` in the group), read and checked with file:line.

The file is optional (a knowledge base without it has no canned replies). Each reply:

    - id: come-with-id              # lower-case-with-dashes, unique: librarians type it
      title: {ru: ..., kk: ...}     # what `/r` lists
      text: {ru: ..., kk: ...}      # what the citizen receives, in the ticket's language
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.knowledge.model import ID_PATTERN, LANGUAGE_NAMES, URL_IN_TEXT, CannedReply
from bot.knowledge.yaml_lines import line_of, read_yaml

REPLIES_FILE = "replies.yaml"
REPLY_TEXT_LIMIT = 700   # characters of a reply's text: one screen of a phone, with room for a personal line
REPLY_TITLE_LIMIT = 60   # characters of a title: one line of the list
FIELDS = ("id", "title", "text")


def load_replies(checker, domains: tuple[str, ...]) -> list[CannedReply]:
    """The canned replies of the checker's directory (a bot.knowledge.loading.YamlChecker, which calls this);
    problems go to checker.problems."""
    path = checker.directory / REPLIES_FILE
    if not path.is_file():
        return []
    shown = checker.shown(path)
    data = read_yaml(path, shown, checker.problems)
    if data is None:
        return []
    if not isinstance(data, list):
        checker.error(shown, line_of(data), "expected a list of replies (each starting with '- id:')")
        return []
    replies: list[CannedReply] = []
    seen: dict[str, CannedReply] = {}
    for position, item in enumerate(data, start=1):
        reply = _reply(checker, item, position, shown, domains)
        if reply is None:
            continue
        if reply.id in seen:
            checker.error(shown, reply.line, f"reply id {reply.id} is used twice (also line {seen[reply.id].line})")
            continue
        seen[reply.id] = reply
        replies.append(reply)
    return replies


def _reply(checker, item, position: int, path: str, domains: tuple[str, ...]) -> CannedReply | None:
    if not isinstance(item, dict):
        checker.error(path, line_of(item), f"reply #{position} is not a block with id, title and text")
        return None
    reply_id = item.get("id")
    if not isinstance(reply_id, str) or not ID_PATTERN.match(reply_id):
        checker.error(path, line_of(item, "id"), f"reply #{position} needs an id in lower-case-with-dashes, like come-with-id")
        return None
    owner = f"reply {reply_id}"
    for key in item:
        if key not in FIELDS:
            checker.error(path, line_of(item, key), f"{owner}: unknown field '{key}' (known: {', '.join(FIELDS)})")
    title = checker.texts(item, "title", path, owner, what="title")
    text = checker.texts(item, "text", path, owner, what="text")
    for lang, value in title.items():
        if len(value) > REPLY_TITLE_LIMIT:
            checker.error(path, line_of(item.get("title"), lang), f"{owner}: the {LANGUAGE_NAMES[lang]} title has "
                                                                  f"{len(value)} characters; keep it under {REPLY_TITLE_LIMIT}")
    for lang, value in text.items():
        line = line_of(item.get("text"), lang)
        if len(value) > REPLY_TEXT_LIMIT:
            checker.error(path, line, f"{owner}: the {LANGUAGE_NAMES[lang]} text has {len(value)} characters; "
                                      f"keep it under {REPLY_TEXT_LIMIT}")
        for url in URL_IN_TEXT.findall(value):
            host = (urlsplit(url).hostname or "").lower()
            if not any(host == d or host.endswith("." + d) for d in domains):
                checker.error(path, line, f"{owner}: {url} is not on an official site ({', '.join(domains)}; see settings.yaml)")
    return CannedReply(reply_id, title, text, path, line_of(item))
