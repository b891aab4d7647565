"""All user-facing wording, one YAML file per interface language (ru, kk, en)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

UI_LANGUAGES = ("ru", "kk", "en")
# The text that answers each kind of small talk (HelpDesk's SmallTalk.kind), in every front end.
SMALL_TALK_REPLIES = {"greeting": "greeting_reply", "thanks": "thanks_reply", "digits": "digits_hint",
                      "no-words": "no_words"}
GROUP = "librarians"  # the librarians' group has one catalogue of its own
_DIR = Path(__file__).resolve().parent


@cache
def _catalogue(lang: str) -> dict[str, str]:
    with open(_DIR / f"{lang}.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def text(lang: str, key: str, /, **values: object) -> str:
    """The text `key` in `lang` (Russian when the language or the key is missing), with values filled in."""
    lang = lang if lang in UI_LANGUAGES or lang == GROUP else "ru"
    template = _catalogue(lang).get(key)
    if template is None:
        template = _catalogue("ru")[key]
    return template.format(**values) if values else template


def keys(lang: str) -> set[str]:
    return set(_catalogue(lang))


def content_lang(ui_lang: str) -> str:
    """Knowledge-base text exists in ru and kk; English readers get Russian."""
    return ui_lang if ui_lang in ("ru", "kk") else "ru"


def small_talk_reply(lang: str, kind: str) -> str:
    return text(lang, SMALL_TALK_REPLIES.get(kind, "no_words"))
