"""A chat in the terminal over the same HelpDesk and texts as the Telegram bot.

It reads one message per line, so questions can be piped in: `echo "как получить эцп" | egov-bot console`.
Clarify options are chosen by number (0 asks a librarian, as "none of these" does in Telegram). The
commands /start, /help, /menu, /status, /cancel N, /lang ru|kk|en and /forget behave as in Telegram. A
librarian's answer to a console citizen's ticket is shown here, before the next prompt or at the next start:
it is never sent to Telegram.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import Callable, TextIO, assert_never

from bot import locales
from bot.helpdesk import (Answer, Clarify, Escalated, FollowUp, HelpDesk, InboxItem, LibrarianAnswer, Rated, Reply,
                          SmallTalk, TicketClosed)
from bot.knowledge import Entry, Notice
from bot.notices import answer_lines, help_lines
from bot.domain import Channel, Citizen, TicketStatus

def render_entry(entry: Entry, lang: str, notices: tuple[Notice, ...] = ()) -> str:
    """An entry's answer as plain text, with its official links and the notices active under it."""
    lang = locales.content_lang(lang)
    lines = [entry.title[lang], "", entry.answer[lang]]
    if entry.links:
        lines += ["", locales.text(lang, "links_header")]
        lines += [f"- {link.title.get(lang, link.url_for(lang))}: {link.url_for(lang)}" for link in entry.links]
    if notices:
        lines += ["", *answer_lines(notices, lang)]
    return "\n".join(lines)


def render_options(options: tuple[Entry, ...], lang: str) -> str:
    content = locales.content_lang(lang)
    lines = [locales.text(lang, "clarify_prompt")]
    lines += [f"{number}. {entry.title[content]}" for number, entry in enumerate(options, start=1)]
    lines += [f"0. {locales.text(lang, 'clarify_none')}", "", locales.text(lang, "clarify_choose_number")]
    return "\n".join(lines)


def pending_line(number: int | None, lang: str) -> str:
    return "" if number is None else "\n\n" + locales.text(lang, "pending_ticket", number=number)


def render(reply: Reply, ui_lang: str = "ru") -> str:
    """Every kind of HelpDesk reply as the console shows it (one place: a new kind fails type checks here)."""
    lang = reply.lang if ui_lang != "en" else "en"
    match reply:
        case Answer():
            return render_entry(reply.entry, reply.lang, reply.notices) + pending_line(reply.pending, lang)
        case Clarify():
            return render_options(reply.options, lang) + pending_line(reply.pending, lang)
        case Escalated():
            if not reply.new:
                return locales.text(lang, "follow_up", number=reply.ticket.id)
            return locales.text(lang, "escalated", number=reply.ticket.id)
        case FollowUp():
            return locales.text(lang, "follow_up", number=reply.ticket.id)
        case SmallTalk():
            return locales.small_talk_reply(lang, reply.kind)
        case Rated():
            return locales.text(lang, "rating_recorded", rating=reply.rating)
        case _:
            assert_never(reply)


def render_inbox(item: InboxItem, lang: str) -> str:
    match item:
        case LibrarianAnswer():
            return locales.text(lang, "librarian_answer", number=item.ticket_id, text=item.text).rstrip()
        case TicketClosed():
            return locales.text(lang, "ticket_closed", number=item.ticket_id)
        case _:
            assert_never(item)


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
        self._confirm_forget = False

    def say(self, message: str) -> None:
        self.stdout.write(locales.text(self.lang, "bot_prefix") + message + "\n\n")
        self.stdout.flush()

    async def _citizen(self) -> Citizen:
        return await self.helpdesk.citizen(Channel.CONSOLE, self.user() or "console", language=self.lang)

    async def _show_inbox(self, citizen: Citizen) -> None:
        for item in await self.helpdesk.inbox(citizen):
            self.say(render_inbox(item, self.lang))

    async def run(self) -> None:
        citizen = await self._citizen()
        self.lang = citizen.language
        interactive = self.stdin.isatty()
        self.say(locales.text(self.lang, "greeting") + "\n" + locales.text(self.lang, "console_hint"))
        quit_words = {w for lang in locales.UI_LANGUAGES for w in locales.text(lang, "quit_words").split()}
        while True:
            citizen = await self._citizen()
            await self._show_inbox(citizen)
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
            await self.handle(citizen, message)
        self.say(locales.text(self.lang, "goodbye"))

    async def handle(self, citizen: Citizen, message: str) -> None:
        """One line the citizen typed."""
        if self._confirm_forget:
            self._confirm_forget = False
            if message.lower() in {"да", "иә", "ия", "yes", "y", "д"}:
                await self.helpdesk.forget(citizen)
                self.say(locales.text(self.lang, "forget_done"))
            else:
                self.say(locales.text(self.lang, "forget_kept"))
            return
        if message.startswith("/"):
            await self._command(citizen, message)
            return
        if self._pending is not None and message.isdigit():
            await self._choose(citizen, int(message))
            return
        self._pending = None
        if await self.helpdesk.privacy_warning(citizen, message):
            self.say(locales.text(self.lang, "privacy_warning"))
        reply = await self.helpdesk.ask(citizen, message)
        if self.lang != "en" and not isinstance(reply, SmallTalk):
            # The conversation goes on in the language the citizen asks in; a "рахмет" from a Russian speaker
            # (or a "спасибо" from a Kazakh one) is answered in its own language and changes nothing.
            self.lang = reply.lang
        if isinstance(reply, Clarify):
            self._pending, self._pending_question = reply, message
        self.say(render(reply, self.lang))

    async def _command(self, citizen: Citizen, line: str) -> None:
        name, _, rest = line.partition(" ")
        name = name.split("@")[0].lower()
        args = rest.split()
        self._pending = None
        if name == "/start":
            self.say(locales.text(self.lang, "greeting") + "\n" + locales.text(self.lang, "console_status_hint"))
        elif name in ("/help", "/menu"):
            notices = help_lines(self.helpdesk.active_notices(), self.lang) if name == "/help" else []
            self.say("\n\n".join([locales.text(self.lang, "help"), *(["\n".join(notices)] if notices else []),
                                   locales.text(self.lang, "console_status_hint")]))
        elif name == "/status":
            tickets = await self.helpdesk.open_tickets_of(citizen)
            if not tickets:
                self.say(locales.text(self.lang, "status_none"))
                return
            lines = [locales.text(self.lang, "status_list")] + [
                locales.text(self.lang, "status_item", number=t.id, question=t.question[:80],
                             state=locales.text(self.lang, "state_taken" if t.status == TicketStatus.TAKEN else "state_open"))
                for t in tickets]
            self.say("\n".join(lines))
        elif name == "/cancel":
            number = args[0].lstrip("#")[:20] if args else ""
            if not number:
                tickets = await self.helpdesk.open_tickets_of(citizen)
                self.say(locales.text(self.lang, "status_none") if not tickets else
                         locales.text(self.lang, "cancel_choose") + " " + ", ".join(f"/cancel {t.id}" for t in tickets))
                return
            ticket = await self.helpdesk.withdraw(citizen, int(number)) if number.isdigit() and len(number) < 10 else None
            self.say(locales.text(self.lang, "cancel_done" if ticket else "cancel_missing", number=number))
        elif name == "/lang":
            chosen = args[0].lower() if args else ""
            if chosen not in locales.UI_LANGUAGES:
                self.say(locales.text(self.lang, "lang_usage"))
                return
            await self.helpdesk.set_language(citizen, chosen)
            self.lang = chosen
            self.say(locales.text(chosen, "lang_set"))
        elif name == "/forget":
            self._confirm_forget = True
            self.say(locales.text(self.lang, "console_forget_confirm"))
        else:
            self.say(locales.text(self.lang, "unknown_command") + "\n" + locales.text(self.lang, "console_status_hint"))

    async def _choose(self, citizen: Citizen, number: int) -> None:
        pending = self._pending
        if number == 0:  # as "none of these" in Telegram: a ticket with what the bot considered
            self._pending = None
            reply = await self.helpdesk.decline(citizen, self._pending_question, pending.lang,
                                                decision=pending.decision)
            self.say(render(reply, self.lang))
        elif 1 <= number <= len(pending.options):
            self._pending = None
            entry = pending.options[number - 1]
            self.say(render_entry(entry, pending.lang, self.helpdesk.notices_for(entry)))
        else:
            self.say(locales.text(self.lang, "clarify_bad_number"))
