"""egov-bot's command line: match, eval, kb lint / export, console, start and run.

Exit codes: 0 success; 1 a check failed (lint errors, eval under target); 2 bad usage or input
(a missing knowledge directory, a broken file, a missing setting), always with one clear line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge import KnowledgeBase, KnowledgeError, Problem, bundled_knowledge_dir, load_knowledge
from bot.matching import Decision, Matcher


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit 2."""


def knowledge_dir(option: str | None) -> Path:
    """--knowledge DIR, else KNOWLEDGE_DIR (environment, then .env), else the bundled knowledge/."""
    from bot.config import setting

    chosen = setting("KNOWLEDGE_DIR", option, str(bundled_knowledge_dir()))
    path = Path(chosen).expanduser()
    if not path.is_dir():
        raise UsageError(f"knowledge directory not found: {path}")
    return path


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


@dataclass
class Tally:
    positives: int = 0
    correct: int = 0
    reachable: int = 0
    wrong: int = 0
    negatives: int = 0
    negatives_answered: int = 0
    negatives_escalated: int = 0

    def add(self, expect: str | None, decision: Decision) -> str:
        """Count one question; return what happened ("ok", "wrong", "missed" ...)."""
        offered = [c.id for c in decision.candidates] if decision.decision == "clarify" else []
        if expect is None:
            self.negatives += 1
            if decision.decision == "answer":
                self.negatives_answered += 1
                return "negative answered"
            if decision.decision == "escalate":
                self.negatives_escalated += 1
                return "ok"
            return "negative clarified"
        self.positives += 1
        if decision.decision == "answer":
            if decision.entry == expect:
                self.correct += 1
                self.reachable += 1
                return "ok"
            self.wrong += 1
            return "wrong answer"
        if expect in offered:
            self.reachable += 1
            return "offered"
        return "not offered" if decision.decision == "clarify" else "escalated"

    def ratios(self) -> dict[str, float]:
        p, n = max(self.positives, 1), max(self.negatives, 1)
        return {
            "top1": self.correct / p,
            "reachable": self.reachable / p,
            "wrong": self.wrong / p,
            "negatives_answered": self.negatives_answered / n,
            "negatives_escalated": self.negatives_escalated / n,
        }


@dataclass
class EvalReport:
    total: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=dict)
    misses: list[tuple[str, str, str | None, Decision]] = field(default_factory=list)


def read_eval_file(path: Path) -> list[dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise UsageError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, list) or not all(isinstance(i, dict) and "q" in i and "expect" in i for i in data):
        raise UsageError(f"{path}: expected a list of {{q: question, expect: entry id or null}}")
    return data


def evaluate(matcher: Matcher, items: list[dict]) -> EvalReport:
    report = EvalReport()
    for item in items:
        question, expect = str(item["q"]), item["expect"]
        decision = matcher.match(question)
        kind = str(item.get("kind", "all"))
        outcome = report.total.add(expect, decision)
        report.by_kind.setdefault(kind, Tally()).add(expect, decision)
        if outcome not in ("ok",):
            report.misses.append((outcome, question, expect, decision))
    return report


def cmd_eval(args: argparse.Namespace) -> int:
    matcher = load_matcher(args.knowledge)
    kb = matcher.kb
    items = read_eval_file(Path(args.file))
    unknown = sorted({str(i["expect"]) for i in items if i["expect"] is not None and kb.entry(str(i["expect"])) is None})
    if unknown:
        print(f"warning: expected entries not in the knowledge base: {', '.join(unknown)}", file=sys.stderr)
    report = evaluate(matcher, items)
    total = report.total
    ratios = total.ratios()
    print(f"questions: {total.positives + total.negatives} ({total.positives} with an entry, {total.negatives} for librarians)")
    print(f"top1: {ratios['top1']:.3f}  reachable: {ratios['reachable']:.3f}  wrong answers: {ratios['wrong']:.3f} ({total.wrong})")
    print(f"negatives answered: {total.negatives_answered}  negatives escalated: {ratios['negatives_escalated']:.3f}")
    print("by kind:")
    for kind, tally in sorted(report.by_kind.items()):
        r = tally.ratios()
        if tally.positives:
            print(f"  {kind:13} n={tally.positives:3}  top1 {r['top1']:.2f}  reachable {r['reachable']:.2f}  wrong {tally.wrong}")
        if tally.negatives:
            print(f"  {kind:13} n={tally.negatives:3}  negatives answered {tally.negatives_answered}  escalated {r['negatives_escalated']:.2f}")
    if report.misses:
        print("misses:")
        for outcome, question, expect, decision in report.misses:
            got = decision.entry or ",".join(c.id for c in decision.candidates) or "-"
            print(f"  [{outcome}] {question!r} expected {expect or 'librarian'}; got {decision.decision} {got}")
    failures = []
    if ratios["top1"] < args.min_top1:
        failures.append(f"top1 {ratios['top1']:.3f} < {args.min_top1}")
    if ratios["reachable"] < args.min_reachable:
        failures.append(f"reachable {ratios['reachable']:.3f} < {args.min_reachable}")
    if ratios["wrong"] > args.max_wrong:
        failures.append(f"wrong {ratios['wrong']:.3f} > {args.max_wrong}")
    if total.negatives_answered > args.max_negatives_answered:
        failures.append(f"negatives answered {total.negatives_answered} > {args.max_negatives_answered}")
    if total.negatives and ratios["negatives_escalated"] < args.min_negatives_escalated:
        failures.append(f"negatives escalated {ratios['negatives_escalated']:.3f} < {args.min_negatives_escalated}")
    if failures:
        print("FAIL: " + "; ".join(failures))
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


# --- console and the bot ----------------------------------------------------------------------


def database_url(option: str | None) -> str:
    """--database URL, else DATABASE_URL (environment, then .env), else ./egov-bot.sqlite3."""
    from bot.config import setting
    from bot.storage import default_database_url

    return setting("DATABASE_URL", option, default_database_url())


def load_library(option: str | None):
    """The knowledge base and access points of --knowledge / KNOWLEDGE_DIR; broken files are usage errors."""
    from bot.helpdesk import Library

    try:
        return Library.load(knowledge_dir(option))
    except KnowledgeError as error:
        errors = [p for p in error.problems if p.severity == "error"]
        more = f" (and {len(errors) - 1} more problems: run egov-bot kb lint)" if len(errors) > 1 else ""
        raise UsageError(f"the knowledge base does not load: {errors[0]}{more}") from None


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
    import asyncio
    import logging

    from bot.config import ConfigError, Settings, environment
    from bot.helpdesk import HelpDesk
    from bot.telegram_ui.application import build_application
    from bot.storage import Storage, StoreError

    # Opt in to PTB's timedelta durations: no deprecation warning on every 429 from Telegram.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    environ = environment()
    if args.knowledge:
        environ["KNOWLEDGE_DIR"] = args.knowledge
    if args.database:
        environ["DATABASE_URL"] = args.database
    try:
        settings = Settings.from_env(environ, env_file=None, webhook=args.webhook)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    library = load_library(str(settings.knowledge_dir))
    try:
        store = Storage.from_url(settings.database_url)
    except StoreError as error:
        raise UsageError(str(error)) from None
    if not args.no_migrate:
        try:
            asyncio.run(_upgrade(settings.database_url))
        except StoreError as error:
            raise UsageError(str(error)) from None
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    helpdesk = HelpDesk(library, store, hours=settings.hours)
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


def with_helpdesk(args: argparse.Namespace, work):
    """Run `await work(helpdesk)` over the database of --database / DATABASE_URL; its errors are usage errors."""
    import asyncio

    from bot.helpdesk import HelpDesk
    from bot.storage import Storage, StoreError

    library = load_library(args.knowledge)

    async def run():
        store = Storage.from_url(database_url(args.database))
        try:
            await store.upgrade()
            return await work(HelpDesk(library, store))
        finally:
            await store.dispose()

    try:
        return asyncio.run(run())
    except StoreError as error:
        raise UsageError(str(error)) from None


async def _upgrade(url: str) -> None:
    from bot.storage import Storage

    store = Storage.from_url(url)
    try:
        await store.upgrade()
    finally:
        await store.dispose()


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the database migrations (also done by `egov-bot run` at start)."""
    import asyncio

    from bot.storage import StoreError

    url = database_url(args.database)
    try:
        asyncio.run(_upgrade(url))
    except StoreError as error:
        raise UsageError(str(error)) from None
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
    from bot.config import setting

    if setting("TELEGRAM_BOT_TOKEN"):  # in the environment or in .env
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
    evaluation.add_argument("--min-top1", type=float, default=0.92)
    evaluation.add_argument("--min-reachable", type=float, default=0.97)
    evaluation.add_argument("--max-wrong", type=float, default=0.02)
    evaluation.add_argument("--max-negatives-answered", type=int, default=0)
    evaluation.add_argument("--min-negatives-escalated", type=float, default=0.9)
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
