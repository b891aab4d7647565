"""egov-bot's command line: match, eval, kb lint / export / drafts, db upgrade, stats, console, start and run.

Exit codes: 0 success; 1 a check failed (lint errors, eval under target); 2 bad usage or input
(a missing knowledge directory, a broken file, a missing setting), always with one clear line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Coroutine, TypeVar

from bot import config
from bot.evaluation import Targets
from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.matching import Decision, Matcher

if TYPE_CHECKING:  # the database commands import SQLAlchemy when they run, not `match`
    from bot.helpdesk import HelpDesk, Library

T = TypeVar("T")


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit 2."""


# --- settings and the knowledge base ----------------------------------------------------------


def knowledge_dir(option: str | None) -> Path:
    """--knowledge DIR, else KNOWLEDGE_DIR (environment, then .env), else the bundled knowledge/."""
    path = config.knowledge_dir(config.environment(options={"KNOWLEDGE_DIR": option}))
    if not path.is_dir():
        raise UsageError(f"knowledge directory not found: {path}")
    return path


def database_url(option: str | None) -> str:
    """--database URL, else DATABASE_URL (environment, then .env), else ./egov-bot.sqlite3."""
    return config.database_url(config.environment(options={"DATABASE_URL": option}))


def _not_loaded(error: KnowledgeError) -> UsageError:
    errors = [p for p in error.problems if p.severity == "error"]
    more = f" (and {len(errors) - 1} more problems: run egov-bot kb lint)" if len(errors) > 1 else ""
    return UsageError(f"the knowledge base does not load: {errors[0]}{more}")


def load(option: str | None) -> KnowledgeBase:
    try:
        return load_knowledge(knowledge_dir(option))
    except KnowledgeError as error:
        raise _not_loaded(error) from None


def load_matcher(option: str | None) -> Matcher:
    """The matcher of the knowledge base (`.kb`), from the on-disk index cache when it is current."""
    from bot.index_cache import load_indexed

    try:
        return load_indexed(knowledge_dir(option))
    except KnowledgeError as error:
        raise _not_loaded(error) from None


def load_library(option: str | None) -> Library:
    """The knowledge base, its matcher and the access points of --knowledge / KNOWLEDGE_DIR."""
    from bot.helpdesk import Library

    try:
        return Library.load(knowledge_dir(option))
    except KnowledgeError as error:
        raise _not_loaded(error) from None


# --- match ------------------------------------------------------------------------------------


def explain(question: str, decision: Decision, kb: KnowledgeBase) -> str:
    lines = [f"decision: {decision.decision}" + (f" -> {decision.entry}" if decision.entry else "")
             + f"  ({decision.reason})", f"language: {decision.lang}"]
    if decision.terms:
        understood = ", ".join(
            f"{t.word}->{t.key}" + (f" ~{t.similarity:.2f}" if t.similarity < 1 else "") + f" w={t.weight:.2f}"
            + ("" if t.known else " (unknown)")
            for t in decision.terms
        )
        lines.append(f"words: {understood}")
    else:
        lines.append("words: none that carry meaning")
    if decision.candidates:
        lines.append("candidates:")
        for candidate in decision.candidates:
            entry = kb.entry(candidate.id)
            title = entry.title["ru"] if entry else ""
            lines.append(f"  {candidate.score:.3f}  {candidate.id}  {title}  [best variant: {candidate.variant}]")
    return "\n".join(lines)


def cmd_match(args: argparse.Namespace) -> int:
    matcher = load_matcher(args.knowledge)
    kb = matcher.kb
    if args.jsonl:
        out = sys.stdout
        for line in sys.stdin:
            question = line.rstrip("\r\n")
            out.write(json.dumps(matcher.match(question).to_json(question), ensure_ascii=False) + "\n")
        out.flush()
        return 0
    if args.text is None:
        raise UsageError('give a question: egov-bot match "как получить эцп" (or --jsonl to read stdin)')
    print(explain(args.text, matcher.match(args.text), kb))
    return 0


# --- eval -------------------------------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation import QuestionSetError, Targets, evaluate, read_questions

    matcher = load_matcher(args.knowledge)
    try:
        questions = read_questions(Path(args.file))
    except QuestionSetError as error:
        raise UsageError(str(error)) from None
    report = evaluate(matcher, questions)
    if report.unknown:
        print(f"warning: expected entries not in the knowledge base: {', '.join(report.unknown)}", file=sys.stderr)
    total, ratios = report.total, report.total.ratios()
    print(f"questions: {total.positives + total.negatives} ({total.positives} with an entry, {total.negatives} for librarians)")
    print(f"top1: {ratios.top1:.3f}  reachable: {ratios.reachable:.3f}  wrong answers: {ratios.wrong:.3f} ({total.wrong})")
    print(f"negatives answered: {total.negatives_answered}  negatives escalated: {ratios.negatives_escalated:.3f}")
    print("by kind:")
    for kind, tally in sorted(report.by_kind.items()):
        r = tally.ratios()
        if tally.positives:
            print(f"  {kind:13} n={tally.positives:3}  top1 {r.top1:.2f}  reachable {r.reachable:.2f}  wrong {tally.wrong}")
        if tally.negatives:
            print(f"  {kind:13} n={tally.negatives:3}  negatives answered {tally.negatives_answered}  escalated {r.negatives_escalated:.2f}")
    if report.misses:
        print("misses:")
        for miss in report.misses:
            decision = miss.decision
            got = decision.entry or ",".join(c.id for c in decision.candidates) or "-"
            print(f"  [{miss.outcome}] {miss.question!r} expected {miss.expect or 'librarian'}; got {decision.decision} {got}")
    targets = Targets(args.min_top1, args.min_reachable, args.max_wrong, args.max_negatives_answered,
                      args.min_negatives_escalated)
    shortfalls = targets.shortfalls(total)
    if shortfalls:
        print("FAIL: " + "; ".join(map(str, shortfalls)))
        return 1
    print("PASS")
    return 0


# --- kb ---------------------------------------------------------------------------------------


def cmd_lint(args: argparse.Namespace) -> int:
    from bot.helpdesk import Library

    directory = knowledge_dir(args.knowledge)
    try:
        problems = Library.load(directory).problems()
    except KnowledgeError as error:
        problems = error.problems
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for problem in errors + (warnings if not args.quiet else []):
        print(problem)
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


def cmd_export(args: argparse.Namespace) -> int:
    kb = load(args.knowledge)
    data = [
        {
            "id": entry.id,
            "category": entry.category,
            "questions": [q for _, q in entry.all_questions()],
            "answer_languages": [lang for lang in ("ru", "kk") if entry.answer.get(lang)],
            "links": [link.url for link in entry.links],
            "reviewed": entry.reviewed.isoformat(),
        }
        for entry in kb.entries
    ]
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2 if args.pretty else None)
    sys.stdout.write("\n")
    return 0


# --- the database: the only section that handles the store ---------------------------------------


def build_helpdesk(knowledge: str | None, url: str, hours: config.LibrarianHours | None = None) -> HelpDesk:
    """The HelpDesk of every command: the library of --knowledge / KNOWLEDGE_DIR over the database at `url`.
    Whoever holds it disposes its store: open_helpdesk() at its end, the Telegram application at shutdown."""
    from bot.helpdesk import HelpDesk
    from bot.tickets import StoreError, TicketStore

    library = load_library(knowledge)
    try:
        store = TicketStore.from_url(url)
    except StoreError as error:
        raise UsageError(str(error)) from None
    return HelpDesk(library, store, hours=hours)


@asynccontextmanager
async def open_helpdesk(knowledge: str | None, database: str | None) -> AsyncIterator[HelpDesk]:
    """The HelpDesk over the database of --database / DATABASE_URL, migrated; its store disposed at the end."""
    helpdesk = build_helpdesk(knowledge, database_url(database))
    try:
        await helpdesk.store.upgrade()
        yield helpdesk
    finally:
        await helpdesk.store.dispose()


async def upgrade_database(url: str) -> None:
    from bot.tickets import TicketStore

    store = TicketStore.from_url(url)
    try:
        await store.upgrade()
    finally:
        await store.dispose()


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(work), with the database's errors as usage errors."""
    import asyncio

    from bot.tickets import StoreError

    try:
        return asyncio.run(work)
    except StoreError as error:
        raise UsageError(str(error)) from None


def with_helpdesk(args: argparse.Namespace, work: Callable[[HelpDesk], Awaitable[T]]) -> T:
    """`await work(helpdesk)` over open_helpdesk() of the command's --knowledge and --database."""

    async def run() -> T:
        async with open_helpdesk(args.knowledge, args.database) as helpdesk:
            return await work(helpdesk)

    return run_async(run())


# --- console and the bot ----------------------------------------------------------------------


def cmd_console(args: argparse.Namespace) -> int:
    from bot.console import Console

    try:
        with_helpdesk(args, lambda helpdesk: Console(helpdesk).run())
    except KeyboardInterrupt:
        print()
    return 0


def _use_uvloop() -> None:
    """uvloop, where installed (not on Windows), runs the bot's event loop: less CPU per message."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def cmd_run(args: argparse.Namespace) -> int:
    """The Telegram bot with long polling; settings from the environment and .env."""
    import logging

    from bot.telegram_ui.application import build_application
    from bot.tickets import StoreError

    # Opt in to PTB's timedelta durations: no deprecation warning on every 429 from Telegram.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    try:
        settings = config.Settings.from_env(options={"KNOWLEDGE_DIR": args.knowledge, "DATABASE_URL": args.database},
                                            webhook=args.webhook)
    except config.ConfigError as error:
        raise UsageError(str(error)) from None
    # The application runs its own event loop and disposes the store at shutdown: no open_helpdesk() here.
    helpdesk = build_helpdesk(str(settings.knowledge_dir), settings.database_url, settings.hours)
    if not args.no_migrate:
        run_async(upgrade_database(settings.database_url))  # a store of its own, in an event loop of its own
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = build_application(settings, helpdesk)
    allowed = ["message", "edited_message", "callback_query", "channel_post"]
    _use_uvloop()
    try:
        if settings.webhook:
            hook = settings.webhook
            app.run_webhook(listen=hook.listen, port=hook.port, url_path=hook.path, webhook_url=hook.url,
                            secret_token=hook.secret, allowed_updates=allowed)
        else:
            app.run_polling(allowed_updates=allowed)
    except StoreError as error:
        raise UsageError(str(error)) from None
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the database migrations (also done by `egov-bot run` at start)."""
    run_async(upgrade_database(database_url(args.database)))
    print("database is up to date")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Usage figures from the database, and what editors should add next."""
    stats = with_helpdesk(args, lambda helpdesk: helpdesk.stats(args.days))
    print(f"last {stats.days} days")
    print(f"questions asked: {stats.questions}")
    print("answered: {:.0%}  clarified: {:.0%}  escalated: {:.0%}".format(
        stats.shares["answer"], stats.shares["clarify"], stats.shares["escalate"]))
    print(f"helpful: {stats.helpful}  not helpful: {stats.not_helpful}")
    print(f"open tickets: {stats.open_tickets}")
    wait = "-" if stats.median_first_reply is None else f"{stats.median_first_reply / 60:.0f} min"
    print(f"median time to the first librarian reply: {wait}")
    print("most frequent unmatched questions (add these to the knowledge base):")
    if not stats.unmatched:
        print("  none")
    for example, count, others in stats.unmatched:
        also = f"  (also: {'; '.join(others)})" if others else ""
        print(f"  {count:4}  {example}{also}")
    return 0


def cmd_drafts(args: argparse.Namespace) -> int:
    """Librarians' answers saved as drafts, as YAML entries for an editor to review."""
    text = with_helpdesk(args, lambda helpdesk: helpdesk.drafts_yaml())
    sys.stdout.write(text or "# no drafts yet\n")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    """`make run`: the Telegram bot when a token is set, otherwise the console chat."""
    if config.setting("TELEGRAM_BOT_TOKEN"):  # in the environment or in .env
        return cmd_run(args)
    return cmd_console(args)


# --- wiring -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", metavar="DIR", help="knowledge base directory (default: KNOWLEDGE_DIR or the bundled one)")
    parser = argparse.ArgumentParser(prog="egov-bot", description="A citizen help bot for Kazakhstan's e-government.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    match = commands.add_parser("match", parents=[common], help="show how the matcher decides on a question")
    match.add_argument("text", nargs="?", help="the question")
    match.add_argument("--jsonl", action="store_true", help="read questions from stdin, one per line; write JSON lines")
    match.set_defaults(handler=cmd_match)

    evaluation = commands.add_parser("eval", parents=[common], help="measure the matcher on a question set")
    evaluation.add_argument("file", help="YAML list of {q: question, expect: entry id or null, kind: optional}")
    targets = Targets()
    evaluation.add_argument("--min-top1", type=float, default=targets.min_top1)
    evaluation.add_argument("--min-reachable", type=float, default=targets.min_reachable)
    evaluation.add_argument("--max-wrong", type=float, default=targets.max_wrong)
    evaluation.add_argument("--max-negatives-answered", type=int, default=targets.max_negatives_answered)
    evaluation.add_argument("--min-negatives-escalated", type=float, default=targets.min_negatives_escalated)
    evaluation.set_defaults(handler=cmd_eval)

    kb = commands.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    lint = kb.add_parser("lint", parents=[common], help="check the knowledge base (exit 1 on errors)")
    lint.add_argument("--quiet", action="store_true", help="print errors only")
    lint.set_defaults(handler=cmd_lint)
    export = kb.add_parser("export", parents=[common], help="print the knowledge base as JSON")
    export.add_argument("--json", action="store_true", required=True, help="JSON output (the only format)")
    export.add_argument("--pretty", action="store_true", help="indent the JSON")
    export.set_defaults(handler=cmd_export)
    drafts = kb.add_parser("drafts", parents=[common], help="print librarians' drafts as YAML entries")
    drafts.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    drafts.set_defaults(handler=cmd_drafts)

    db = commands.add_parser("db", help="database tools").add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db.add_parser("upgrade", help="apply the database migrations")
    upgrade.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    stats = commands.add_parser("stats", parents=[common], help="usage figures and the most frequent unmatched questions")
    stats.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    stats.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    stats.set_defaults(handler=cmd_stats)

    for name, handler, text in (
        ("console", cmd_console, "chat with the bot in the terminal"),
        ("run", cmd_run, "run the Telegram bot"),
        ("start", cmd_start, "the Telegram bot if TELEGRAM_BOT_TOKEN is set, else the console"),
    ):
        sub = commands.add_parser(name, parents=[common], help=text)
        sub.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
        sub.add_argument("--no-migrate", action="store_true", help="do not apply database migrations at start")
        sub.add_argument("--webhook", action="store_true",
                         help="receive updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN, WEBHOOK_PORT)")
        sub.set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"egov-bot: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
