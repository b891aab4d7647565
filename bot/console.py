"""A chat in the terminal over the same HelpDesk and texts as the Telegram bot.

It reads one message per line, so questions can be piped in: `echo "как получить эцп" | egov-bot console`.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import Callable, TextIO

from bot import locales
from bot.helpdesk import Answer, Clarify, Escalated, HelpDesk, Reply, SmallTalk
from bot.knowledge import Entry


def render_entry(entry: Entry, lang: str) -> str:
    """An entry's answer as plain text, with its official links."""
    lines = [entry.title[lang], "", entry.answer[lang]]
    if entry.links:
        lines += ["", locales.text(lang, "links_header")]
        lines += [f"- {link.title.get(lang, link.url_for(lang))}: {link.url_for(lang)}" for link in entry.links]
    return "\n".join(lines)


def render_options(options: tuple[Entry, ...], lang: str) -> str:
    lines = [locales.text(lang, "clarify_prompt")]
    lines += [f"{number}. {entry.title[lang]}" for number, entry in enumerate(options, start=1)]
    lines += [f"0. {locales.text(lang, 'clarify_none')}", "", locales.text(lang, "clarify_choose_number")]
    return "\n".join(lines)


def render(reply: Reply) -> str:
    if isinstance(reply, Answer):
        return render_entry(reply.entry, reply.lang)
    if isinstance(reply, Clarify):
        return render_options(reply.options, reply.lang)
    if isinstance(reply, Escalated):
        return locales.text(reply.lang, "escalated", number=reply.ticket.id)
    key = {"greeting": "greeting_reply", "thanks": "thanks_reply"}.get(reply.kind, "no_words")
    return locales.text(reply.lang, key)


class Console:
    """One citizen talking to the bot through a terminal or a pipe."""

    def __init__(self, helpdesk: HelpDesk, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
                 user: Callable[[], str] = getpass.getuser) -> None:
        self.helpdesk = helpdesk
        self.stdin = stdin
        self.stdout = stdout
        self.user = user
        self.lang = "ru"
        self._pending: Clarify | None = None
        self._pending_question = ""

    def say(self, message: str) -> None:
        self.stdout.write(locales.text(self.lang, "bot_prefix") + message + "\n\n")
        self.stdout.flush()

    async def run(self) -> None:
        citizen = await self.helpdesk.store.citizen("console", self.user() or "console", language=self.lang)
        interactive = self.stdin.isatty()
        self.say(locales.text(self.lang, "greeting") + "\n" + locales.text(self.lang, "console_hint"))
        quit_words = {w for lang in locales.UI_LANGUAGES for w in locales.text(lang, "quit_words").split()}
        while True:
            if interactive:
                self.stdout.write(locales.text(self.lang, "prompt"))
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            message = line.strip()
            if message.lower() in quit_words:
                break
            if not interactive:
                self.stdout.write(locales.text(self.lang, "prompt") + message + "\n")
            if self._pending is not None and message.isdigit():
                await self._choose(citizen, int(message))
                continue
            self._pending = None
            if await self.helpdesk.privacy_warning(citizen, message):
                self.say(locales.text(self.lang, "privacy_warning"))
            reply = await self.helpdesk.ask(citizen, message)
            self.lang = reply.lang
            if isinstance(reply, Clarify):
                self._pending, self._pending_question = reply, message
            self.say(render(reply))
        self.say(locales.text(self.lang, "goodbye"))

    async def _choose(self, citizen, number: int) -> None:
        pending = self._pending
        if number == 0:
            self._pending = None
            candidates = [{"id": c.id, "score": round(c.score, 3)} for c in pending.decision.candidates]
            reply = await self.helpdesk.escalate(citizen, self._pending_question, pending.lang, kind="declined",
                                                 candidates=candidates)
            self.say(render(reply))
        elif 1 <= number <= len(pending.options):
            self._pending = None
            self.say(render_entry(pending.options[number - 1], pending.lang))
        else:
            self.say(locales.text(pending.lang, "clarify_bad_number"))
