"""egov-bot kb replay: what an edited copy of the knowledge base would change in the answers to past questions."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from bot.cli.common import UsageError, load_matcher, with_helpdesk
from bot.domain import utcnow
from bot.evaluation import QuestionSetError, read_questions
from bot.knowledge import KnowledgeError
from bot.matching import Matcher
from bot.replay import Replay, counted, replay


def add_replay_command(kb, common: argparse.ArgumentParser) -> None:
    """`kb replay` under the `kb` command group."""
    command = kb.add_parser("replay", parents=[common],
                            help="show what a changed copy of the knowledge base would change in the answers")
    command.add_argument("--against", metavar="DIR", required=True, help="the changed copy of the knowledge folder")
    command.add_argument("--days", type=int, default=30, help="replay the questions logged this many days back (default 30)")
    command.add_argument("--questions", metavar="FILE.yaml",
                         help="replay the questions of this file (a list of {q: question}, as for eval) instead of the log")
    command.add_argument("--strict", action="store_true",
                         help="exit 1 when an answered question would go to a librarian or to another entry")
    command.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    command.set_defaults(handler=cmd_replay)


def changed_matcher(directory: str) -> Matcher:
    """The edited copy, loaded as `kb lint` loads it; its errors (file:line) printed when it does not load."""
    from bot.helpdesk import Knowledge

    path = Path(directory)
    if not path.is_dir():
        raise UsageError(f"knowledge directory not found: {path}")
    try:
        return Knowledge.load(path).matcher
    except KnowledgeError as error:
        errors = [p for p in error.problems if p.severity == "error"]
        for problem in errors:
            print(problem, file=sys.stderr)
        raise UsageError(f"the knowledge base in {path} does not load: {len(errors)} errors "
                         f"(fix them; egov-bot kb lint --knowledge {path} shows them too)") from None


def cmd_replay(args: argparse.Namespace) -> int:
    if args.days < 1:
        raise UsageError("--days must be a positive number of days")
    changed = changed_matcher(args.against)
    if args.questions:
        try:
            questions = counted(q.text for q in read_questions(Path(args.questions), expect_required=False))
        except QuestionSetError as error:
            raise UsageError(str(error)) from None
        source = f"questions of {args.questions}"
        result = replay(load_matcher(args.knowledge), changed, questions)
    else:
        since = utcnow() - dt.timedelta(days=args.days)

        async def logged(helpdesk):
            return helpdesk.knowledge.matcher, await helpdesk.store.insights.logged_questions(since)

        current, questions = with_helpdesk(args, logged)
        source = f"questions logged in the last {args.days} days"
        result = replay(current, changed, questions)
    print_replay(result, source, args.against)
    if args.strict and result.risky:
        print(f"FAIL: {result.risky} answered questions would go to a librarian or to another entry")
        return 1
    return 0


def print_replay(result: Replay, source: str, against: str) -> None:
    if not result.total:
        print(f"no {source}: nothing to replay")
        return
    print(f"replayed {result.total} {source} through the current knowledge base and {against}")
    print(f"keep their outcome: {result.unchanged} of {result.total} ({result.unchanged / result.total:.0%})")
    print(f"would change: {result.changed}" + (f" (answered questions at risk: {result.risky})" if result.risky else ""))
    for group in result.groups:
        mark = "  [!]" if group.risky else ""
        print(f"{group.name}: {group.count}{mark}")
        for example in group.examples:
            times = f" (asked {example.count} times)" if example.count > 1 else ""
            print(f"    {example.question!r}{times}: {example.before} -> {example.after}")
