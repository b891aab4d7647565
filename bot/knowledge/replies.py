"""knowledge/replies.yaml: the librarians' canned replies (`/r ID` in the group), read and checked with file:line.

The file is optional (a knowledge base without it has no canned replies). Each reply:

    - id: come-with-id              # lower-case-with-dashes, unique: librarians type it
      title: {ru: ..., kk: ...}     # what `/r` lists
      text: {ru: ..., kk: ...}      # what the citizen receives, in the ticket's language
"""

from __future__ import annotations

from bot.knowledge.model import CannedReply
from bot.knowledge.yaml_lines import line_of

REPLIES_FILE = "replies.yaml"
REPLY_TEXT_LIMIT = 700   # characters of a reply's text: one screen of a phone, with room for a personal line
REPLY_TITLE_LIMIT = 60   # characters of a title: one line of the list
FIELDS = ("id", "title", "text")


def load_replies(checker, domains: tuple[str, ...]) -> list[CannedReply]:
    """The canned replies of the checker's directory (a bot.knowledge.checking.YamlChecker, which calls this);
    problems go to checker.problems."""
    shown, data = checker.read(REPLIES_FILE)
    if data is None:
        return []
    if not isinstance(data, list):
        checker.error(shown, line_of(data), "expected a list of replies (each starting with '- id:')")
        return []
    replies = [_reply(checker, item, position, shown, domains) for position, item in enumerate(data, start=1)]
    return checker.first_of_each_id([reply for reply in replies if reply is not None], shown, "reply")


def _reply(checker, item, position: int, path: str, domains: tuple[str, ...]) -> CannedReply | None:
    reply_id = checker.block_id(item, position, path, "reply", FIELDS, shape="with id, title and text",
                                example="come-with-id")
    if reply_id is None:
        return None
    owner = f"reply {reply_id}"
    title = checker.texts(item, "title", path, owner, what="title")
    text = checker.texts(item, "text", path, owner, what="text")
    checker.short_texts(item, "title", title, path, owner, REPLY_TITLE_LIMIT)
    checker.short_texts(item, "text", text, path, owner, REPLY_TEXT_LIMIT, domains)
    return CannedReply(reply_id, title, text, path, line_of(item))
