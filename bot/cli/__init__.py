"""egov-bot's command line: match, eval, kb lint / export / drafts / suggestions / replay / gaps, db upgrade, stats, report,
console, start and run.

Exit codes: 0 success; 1 a check failed (lint errors, eval under target); 2 bad usage or input
(a missing knowledge directory, a broken file, a missing setting), always with one clear line.

build_parser() lists every command; each group of commands has a module (matcher, kb, db, frontends) and
common.py holds what they share: the settings and knowledge base of the options, and open_helpdesk().
"""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import UsageError
from bot.cli.db import cmd_db_upgrade, cmd_stats
from bot.cli.frontends import cmd_console, cmd_run, cmd_start
from bot.cli import gaps as gaps_cli
from bot.cli.kb import cmd_drafts, cmd_export, cmd_lint, cmd_suggestions
from bot.cli.matcher import cmd_eval, cmd_match
from bot.cli.report import cmd_report
from bot.cli.replay import add_replay_command
from bot.evaluation import Targets


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
    suggestions = kb.add_parser("suggestions", parents=[common],
                                help="print the wordings librarians answered with an entry, as YAML for its questions")
    suggestions.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    suggestions.set_defaults(handler=cmd_suggestions)
    add_replay_command(kb, common)
    gaps_cli.add_parser(kb, common)

    db = commands.add_parser("db", help="database tools").add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db.add_parser("upgrade", help="apply the database migrations")
    upgrade.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    stats = commands.add_parser("stats", parents=[common], help="usage figures and the most frequent unmatched questions")
    stats.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    stats.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    stats.set_defaults(handler=cmd_stats)

    report = commands.add_parser("report", parents=[common], help="the editors' report as one HTML file")
    report.add_argument("--html", metavar="FILE", required=True, help="where to write the report")
    report.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    report.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    report.set_defaults(handler=cmd_report)

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
