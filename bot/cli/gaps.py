"""egov-bot kb gaps: groups of similar questions the bot did not answer well, the most citizens first, each with
the action proposed to editors (bot.gaps); --json prints one JSON object per group and line; --ignore KEY keeps
a group out of later lists."""

from __future__ import annotations

import argparse
import json

import yaml

from bot.cli.common import UsageError, with_helpdesk


def add_parser(kb, common: argparse.ArgumentParser) -> None:
    """`kb gaps` under the kb commands (`kb` is their subparsers, `common` the parser of --knowledge)."""
    gaps = kb.add_parser("gaps", parents=[common], help="groups of questions the bot did not answer well, with a proposed action")
    gaps.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    gaps.add_argument("--json", action="store_true", help="one JSON object per group, one per line")
    gaps.add_argument("--ignore", metavar="GROUP_KEY", help="keep this group (and similar ones) out of later lists")
    gaps.add_argument("--database", metavar="URL", help="SQLAlchemy URL (default: DATABASE_URL or ./egov-bot.sqlite3)")
    gaps.set_defaults(handler=cmd_gaps)


def cmd_gaps(args: argparse.Namespace) -> int:
    from bot.gaps import content_gaps, ignore_gap

    if args.days < 1:
        raise UsageError(f"--days must be a positive number of days, not {args.days}")
    if args.ignore is not None:
        outcome, gap = with_helpdesk(args, lambda helpdesk: ignore_gap(helpdesk, args.ignore, args.days))
        key = args.ignore.strip().lower()
        if outcome == "malformed":
            raise UsageError(f"not a gap key: {args.ignore!r} (keys are the 10 letters and digits that "
                             "egov-bot kb gaps shows in brackets)")
        if outcome == "unknown":
            raise UsageError(f"no gap {key} in the last {args.days} days (egov-bot kb gaps lists them; "
                             "--days looks further back)")
        if outcome == "already":
            print(f"{key} is already ignored")
            return 0
        print(f"{key} ignored: it stays out of later lists ({_count(gap.citizens, 'citizen')}, e.g. {gap.examples[0]!r})")
        return 0
    gaps = with_helpdesk(args, lambda helpdesk: content_gaps(helpdesk, args.days))
    if args.json:
        for gap in gaps:
            print(json.dumps(gap.as_json(), ensure_ascii=False))
        return 0
    if not gaps:
        print(f"no content gaps in the last {args.days} days")
        return 0
    print(f"content gaps in the last {args.days} days: {len(gaps)} groups, the most citizens first")
    for gap in gaps:
        sources = ", ".join(f"{source} {count}" for source, count in sorted(gap.sources.items()))
        print(f"\n[{gap.key}] {_count(gap.citizens, 'citizen')}, {_count(gap.messages, 'message')} ({sources})")
        for example in gap.examples:
            print(f"  - {example}")
        if gap.entry_id is not None:
            print(f"  action: add these wordings to {gap.entry_id} ({gap.entry_where}): {gap.reason}")
        else:
            print(f"  action: new entry ({gap.reason}); draft:")
            draft = yaml.safe_dump([gap.draft], allow_unicode=True, sort_keys=False, width=100)
            print("".join(f"    {line}\n" for line in draft.splitlines()), end="")
    print("\nnot for the knowledge base? egov-bot kb gaps --ignore KEY")
    return 0


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"
