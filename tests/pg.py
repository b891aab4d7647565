"""A throw-away PostgreSQL server for the tests: initdb in a temporary folder, pg_ctl on a loopback port.

Binaries come from PATH or /usr/lib/postgresql/<version>/bin (.ci/run installs them when missing).
As root, the server runs as the `postgres` system user (PostgreSQL refuses to run as root).
Without binaries the PostgreSQL tests skip locally; under CI=true that is a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="egov-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        self.started = False

    @property
    def available(self) -> bool:
        return self.bin is not None

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, cwd=self.root, timeout=120)

    def start(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "egov", "--auth=trust", "-E", "UTF8",
                  "--locale=C")
        self.resume()

    def resume(self) -> None:
        """Start the server (again, after `pause`)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        self.started = True

    def pause(self) -> None:
        """Stop the server as a crash or a restart would: connections are cut."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.started = False

    def stop(self) -> None:
        if self.started:
            subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                           capture_output=True, cwd=self.root, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://egov@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        subprocess.run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "egov", "-d", "postgres",
                        "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=60)
        return self.url(name)


TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?")


def query(url: str, sql: str, args: tuple = ()) -> list[tuple]:
    """One statement through asyncpg, on its own event loop in a thread (so a test's running loop may call it).

    SQLite's "?" placeholders and text timestamps are accepted, so a test can run the same SQL on both."""
    import asyncpg

    numbered = iter(range(1, len(args) + 1))
    sql = re.sub(r"\?", lambda _: f"${next(numbered)}", sql)
    values = [dt.datetime.fromisoformat(a) if isinstance(a, str) and TIMESTAMP.fullmatch(a) else a for a in args]

    async def run() -> list[tuple]:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return [tuple(row) for row in await connection.fetch(sql, *values)]
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()
