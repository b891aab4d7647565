"""egov-bot report --html FILE: the editors' report of the database's last N days, as one HTML file."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bot import config
from bot.cli.common import UsageError, with_helpdesk


def cmd_report(args: argparse.Namespace) -> int:
    from bot.report import gather, render

    if args.days < 1:
        raise UsageError(f"--days must be at least 1 (got {args.days})")
    target = Path(args.html)
    if not target.parent.is_dir():
        raise UsageError(f"cannot write the report: folder not found: {target.parent}")
    try:  # the desk's times are in the librarians' working minutes, in their time zone
        values = config.environment()
        hours, (take, _) = config.librarian_hours(values), config.reminder_minutes(values)
    except config.ConfigError as error:
        raise UsageError(str(error)) from None

    async def build(helpdesk):
        return render(await gather(helpdesk, args.days, hours=hours, take_minutes=take))

    page = with_helpdesk(args, build)
    try:  # written whole or not at all: a half-written report never replaces a good one
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(page)
        os.chmod(temporary, 0o644)  # a report is for others to read (mkstemp makes it the owner's only)
        os.replace(temporary, target)
    except OSError as error:
        raise UsageError(f"cannot write the report to {target}: {error.strerror or error}") from None
    print(f"report written to {target} ({len(page.encode('utf-8')) // 1024} KB, last {args.days} days)")
    return 0
