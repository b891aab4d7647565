"""egov-bot db upgrade and stats: the database's migrations and the usage figures it holds."""

from __future__ import annotations

import argparse

from bot.cli.common import database_url, run_async, upgrade_database, with_helpdesk


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
