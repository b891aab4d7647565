"""egov-bot db upgrade and stats: the database's migrations and the usage figures it holds."""

from __future__ import annotations

import argparse

from bot import config
from bot.cli.common import UsageError, database_url, run_async, upgrade_database, with_helpdesk


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the database migrations (also done by `egov-bot run` at start)."""
    run_async(upgrade_database(database_url(args.database)))
    print("database is up to date")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Usage figures from the database, and what editors should add next."""
    try:  # the desk's times are in the librarians' working minutes: their hours and the take reminder's limit
        values = config.environment()
        hours, (take, _) = config.librarian_hours(values), config.reminder_minutes(values)
    except config.ConfigError as error:
        raise UsageError(str(error)) from None

    async def gather(helpdesk):
        return await helpdesk.stats(args.days), await helpdesk.desk_stats(args.days, hours=hours, take_minutes=take)

    stats, desk = with_helpdesk(args, gather)
    print(f"last {stats.days} days")
    print(f"questions asked: {stats.questions}")
    print("answered: {:.0%}  clarified: {:.0%}  escalated: {:.0%}".format(
        stats.shares["answer"], stats.shares["clarify"], stats.shares["escalate"]))
    print(f"helpful: {stats.helpful}  not helpful: {stats.not_helpful}")
    print(f"open tickets: {stats.open_tickets}")
    wait = "-" if stats.median_first_reply is None else f"{stats.median_first_reply / 60:.0f} min"
    print(f"median time to the first librarian reply: {wait}")
    print_desk(desk)
    print("most frequent unmatched questions (add these to the knowledge base):")
    if not stats.unmatched:
        print("  none")
    for example, count, others in stats.unmatched:
        also = f"  (also: {'; '.join(others)})" if others else ""
        print(f"  {count:4}  {example}{also}")
    return 0


def print_desk(desk) -> None:
    """The librarians' desk in working minutes (bot.desk_stats.DeskStats)."""
    def spread(name: str, found) -> None:
        figure = "-" if found is None else f"median {found.median:.0f} min, 90% within {found.p90:.0f} min ({found.count} tickets)"
        print(f"{name} (working minutes): {figure}")

    spread("first librarian reply", desk.first_response)
    spread("resolution (to closing)", desk.resolution)
    share = "-" if desk.answered_in_time is None else f"{desk.answered_in_time:.0%} of {desk.tickets}"
    print(f"tickets answered within {desk.take_minutes:g} working minutes (TAKE_REMINDER_MINUTES): {share}")
    if desk.suggested is not None:
        print(f"answered with a suggested entry: {desk.suggested:.0%} of the answered tickets")
    if desk.canned is not None:
        print("most used canned replies: " + (", ".join(f"{reply} ({count})" for reply, count in desk.canned) or "none"))
