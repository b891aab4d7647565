"""How long `egov-bot report --html` takes on a busy database, and how big the file is.

Run from the project root:  .venv/bin/python benchmarks/bench_report.py  [--questions 20000] [--days 90]
                            [--screenshot docs/report.png]  (headless Chromium, as the browser test uses)
Seeds a SQLite database in a temporary folder (tests/report_seed.py: the bundled knowledge base's wordings,
feedback, tickets), then times the whole command as a user runs it (load the knowledge base, migrate, query,
draw, write). Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bot import cli  # noqa: E402
from report_seed import seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--screenshot", metavar="PNG", help="also save a screenshot of the report's top")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'report.sqlite3'}"

        async def fill() -> None:
            store = await seed(url, questions=options.questions, days=options.days)
            await store.dispose()

        started = time.perf_counter()
        asyncio.run(fill())
        seeded = time.perf_counter() - started
        target = Path(folder) / "report.html"
        started = time.perf_counter()
        cli.main(["report", "--html", str(target), "--days", str(options.days), "--database", url])
        built = time.perf_counter() - started
        size = target.stat().st_size
        if options.screenshot:
            import browser

            binary = browser.chromium()
            if binary is None:
                sys.exit("bench_report: chromium not found (apt-get install chromium)")
            browser.screenshot(binary, target, Path(options.screenshot).resolve(), width=1000, height=1500)
    print(f"seeded {options.questions} questions over {options.days} days in {seeded:.1f} s")
    print(f"report built in {built:.2f} s, {size / 1024:.0f} KB ({size} bytes)")


if __name__ == "__main__":
    main()
