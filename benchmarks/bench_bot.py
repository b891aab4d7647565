"""End-to-end load on the real bot process: latency and throughput of answers, beside a bare echo bot.

Run from the project root:  .venv/bin/python benchmarks/bench_bot.py
Options: --citizens 50  --questions 20  --rounds 3  --memory-questions 10000  --skip-postgres

Everything stays on 127.0.0.1: the Bot API emulator of the end-to-end tests (tests/e2e/emulator.py)
runs in this process, the bots run as subprocesses (`python -m bot run`, as tests/e2e/test_bot_process.py
starts them), PostgreSQL is the throw-away server of tests/pg.py. Prints numbers, asserts nothing.

What is measured:

- Load. N citizens (private chats) ask concurrently, each M questions one after another: a citizen sends
  the next question as soon as the reply to the previous one arrived (a closed loop, no think time).
  Questions are answerable ones from the bundled knowledge base ("как получить эцп", "справка о
  несудимости", "штрафы пдд", ...); every 10th citizen's last question matches nothing, so it opens a
  ticket (a card is posted to the librarians' group). Unmatched questions come last because once a
  citizen has an open ticket, everything they write joins it.
- Latency: from just before the update is injected (queued in the emulator for getUpdates, or POSTed to
  the webhook) to the moment the emulator handled the bot's sendMessage to that citizen's chat
  (time.perf_counter in the emulator's request thread). Median and p99 over all questions.
- Throughput: questions answered / (last reply - first injection). CPU: the bot process's user + system
  time over the run, per answer (from /proc/<pid>/stat): it hardly changes with a neighbour's load.
- Rounds: the polling scenarios run --rounds times (default 3), taking turns, and the medians are compared:
  on a shared machine one run alone can be 20 % off.
- The echo bot: a bare python-telegram-bot Application (the same AIORateLimiter rate; PTB's default of one
  update at a time, where egov-bot handles up to 64 chats at once, each chat in order) in a subprocess,
  polling its own emulator, replying with the same text. Its third variant runs on uvloop and egov-bot's
  transport (bot/telegram_ui/transport.py: JSON bodies): beside it, what is left is egov-bot's own work.
- PostgreSQL: the same load, polling; then webhook mode with one instance and with two instances on one
  database (updates POSTed alternately to the instances' ports with the secret header).
- Memory: one polling bot on SQLite answers --memory-questions questions (N concurrent citizens, a fresh
  citizen id every M questions, answerable questions only); VmRSS and VmHWM from /proc/<pid>/status are
  read before and after each 2,000 answers.

Caveats, printed with the results: the bot's per-citizen flood guard is lifted in the benchmarked
processes (FLOOD_LIMIT=0: a citizen asks M questions within seconds here). Both bots send through
python-telegram-bot's AIORateLimiter with the same overall rate: BENCH_SEND_RATE, default 30 messages a
second as Telegram allows; set it high (e.g. BENCH_SEND_RATE=1000) to compare the bots' own processing.
A short warm-up (one separate citizen, 5 questions) precedes every measured run and is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/ has no __init__.py: a namespace package from the project root

from tests.e2e.emulator import BotApiEmulator, Chat, _public  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402

GROUP_ID = -1001234
SECRET = "bench-bot-webhook-secret-token"
REPLY_TIMEOUT = 30.0  # seconds a citizen waits for one reply before counting it lost
START_TIMEOUT = 60.0
ANSWERABLE = ["как получить эцп", "справка о несудимости", "штрафы пдд", "как записаться к врачу",
              "пособие по безработице", "как оформить пенсию", "замена удостоверения личности",
              "регистрация по месту жительства", "адресная справка", "налоговая декларация"]
UNMATCHED = ["где купить билет на концерт", "рецепт бешбармака", "посоветуйте хороший детектив",
             "кто написал войну и мир"]

# `python -m bot run`; the flood guard is lifted and the send rate set through the environment.
BOT_RUNNER = """
import runpy, sys
sys.argv = ["bot", "run", *sys.argv[1:]]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""
SEND_RATE = float(os.environ.get("BENCH_SEND_RATE", "30"))  # the same limiter for egov-bot and the echo bot

ECHO_BOT = """
import asyncio, os
from telegram.ext import Application, MessageHandler, filters

if os.environ.get("ECHO_UVLOOP"):  # the event loop egov-bot runs on, for a like-for-like figure
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

async def echo(update, context):
    await update.effective_message.reply_text(update.effective_message.text)

from telegram.ext import AIORateLimiter
builder = (Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"]).base_url(os.environ["TELEGRAM_BASE_URL"])
           .rate_limiter(AIORateLimiter(overall_max_rate=float(os.environ["SEND_RATE"]), max_retries=0)))
if os.environ.get("ECHO_JSON"):  # egov-bot's transport (JSON bodies), to see what is left of egov-bot's own work
    from bot.telegram_ui.transport import JsonRequest
    builder = builder.request(JsonRequest()).get_updates_request(JsonRequest(connection_pool_size=1))
app = builder.build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(allowed_updates=["message"])
"""


class TimedEmulator(BotApiEmulator):
    """The emulator, telling a listener when the bot sent a message to a chat (and when)."""

    def __init__(self) -> None:
        super().__init__()
        self.listener = None  # callable(chat_id, perf_counter time)

    def _send_message(self, params):
        result = super()._send_message(params)
        if self.listener is not None:
            self.listener(result["chat"]["id"], time.perf_counter())
        return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (/proc/<pid>/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


class Bot:
    """One bot subprocess against an emulator."""

    def __init__(self, emulator: BotApiEmulator, folder: Path, database_url: str | None, *, echo: bool = False,
                 webhook_port: int | None = None, uvloop: bool = False, json_transport: bool = False) -> None:
        self.emulator, self.folder, self.webhook_port = emulator, folder, webhook_port
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "bot.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LIBRARIAN_", "DATABASE_", "WEBHOOK_"))}
        env.update(TELEGRAM_BOT_TOKEN=emulator.token, TELEGRAM_BASE_URL=emulator.base_url, PTB_TIMEDELTA="true",
                   LIBRARIAN_CHAT_ID=str(GROUP_ID), LIBRARIAN_HOURS="Mon-Sun 00:00-23:59",
                   DATABASE_URL=database_url or f"sqlite+aiosqlite:///{folder / 'bot.sqlite3'}",
                   EDITOR_IDS="7001", PYTHONPATH=str(ROOT), FLOOD_LIMIT="0", SEND_RATE=str(SEND_RATE))
        if uvloop:
            env["ECHO_UVLOOP"] = "1"
        if json_transport:
            env["ECHO_JSON"] = "1"
        args = []
        if webhook_port is not None:
            env.update(WEBHOOK_URL=f"http://127.0.0.1:{webhook_port}/telegram", WEBHOOK_SECRET=SECRET,
                       WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(webhook_port))
            args = ["--webhook"]
        code = ECHO_BOT if echo else BOT_RUNNER
        with open(self.log, "a") as log:
            self.process = subprocess.Popen([sys.executable, "-c", code, *args], cwd=folder, env=env,
                                            stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def ready(self, polls_before: int = 0) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            if self.webhook_port is None:
                if len(self.emulator.calls_to("getUpdates")) > polls_before:
                    return
            elif any(str(self.webhook_port) in str(c.get("url", "")) for c in self.emulator.calls_to("setWebhook")):
                for _ in range(100):  # it listens right after setWebhook
                    try:
                        with socket.create_connection(("127.0.0.1", self.webhook_port), timeout=1):
                            return
                    except OSError:
                        await asyncio.sleep(0.1)
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the bot did not start within {START_TIMEOUT}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Injector:
    """Puts a citizen's text in front of the bot: queued for getUpdates, or POSTed to webhook ports in turn."""

    def __init__(self, emulator: BotApiEmulator, ports: list[int] | None = None, workers: int = 50) -> None:
        self.emulator, self.ports = emulator, ports or []
        self.pool = ThreadPoolExecutor(max_workers=workers) if self.ports else None
        self.count = 0
        self.update_id = 500000
        self.failed_posts = 0

    async def __call__(self, chat: Chat, text: str) -> None:
        if not self.ports:
            self.emulator.send_text(chat, None, text)
            return
        with self.emulator._lock:  # register the message in the emulator, as send_text would
            msg = self.emulator._new_message(chat, chat.user.to_api(), {"text": text})
            self.update_id += 1
            update = {"update_id": self.update_id, "message": _public(msg)}
        port = self.ports[self.count % len(self.ports)]
        self.count += 1
        status = await asyncio.get_running_loop().run_in_executor(self.pool, self._post, port, update)
        if status != 200:
            self.failed_posts += 1

    @staticmethod
    def _post(port: int, update: dict) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                         headers={"Content-Type": "application/json",
                                                  "X-Telegram-Bot-Api-Secret-Token": SECRET})
        try:
            with urllib.request.urlopen(request, timeout=REPLY_TIMEOUT) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return -1

    def close(self) -> None:
        if self.pool:
            self.pool.shutdown(wait=True)


def questions_for(citizen_index: int, count: int, *, unmatched: bool = True) -> list[str]:
    texts = [ANSWERABLE[(citizen_index + k) % len(ANSWERABLE)] for k in range(count)]
    if unmatched and citizen_index % 10 == 0 and count:
        texts[-1] = UNMATCHED[(citizen_index // 10) % len(UNMATCHED)]
    return texts


async def drive(emulator: TimedEmulator, inject: Injector, citizens: int, questions: int, *, first_id: int,
                sessions: int = 1, unmatched: bool = True, every: int = 0, on_every=None) -> dict:
    """Closed-loop load: `citizens` workers, each asking `questions` questions per session, `sessions` sessions
    (a new citizen id each). Returns latencies (s), lost replies, wall time, extra messages."""
    loop = asyncio.get_running_loop()
    queues: dict[int, asyncio.Queue] = {}
    latencies: list[float] = []
    lost = 0
    answered = 0

    def listener(chat_id: int, at: float) -> None:
        queue = queues.get(chat_id)
        if queue is not None:
            loop.call_soon_threadsafe(queue.put_nowait, at)

    emulator.listener = listener

    async def worker(w: int) -> None:
        nonlocal lost, answered
        for s in range(sessions):
            cid = first_id + s * citizens + w
            chat = emulator.private_chat(cid, f"Житель{cid}")
            queue = queues[cid] = asyncio.Queue()
            for text in questions_for(s * citizens + w, questions, unmatched=unmatched):
                t0 = time.perf_counter()
                await inject(chat, text)
                try:
                    at = await asyncio.wait_for(queue.get(), REPLY_TIMEOUT)
                except asyncio.TimeoutError:
                    lost += 1
                    continue
                latencies.append(at - t0)
                last[0] = max(last[0], at)
                answered += 1
                if every and on_every and answered % every == 0:
                    on_every(answered)
            await asyncio.sleep(0.3)  # let a late extra message show up before the queue is dropped
            extra[0] += queue.qsize()
            queues.pop(cid, None)

    extra = [0]
    start = time.perf_counter()
    last = [start]
    await asyncio.gather(*(worker(w) for w in range(citizens)))
    emulator.listener = None
    return {"latencies": latencies, "lost": lost, "wall": last[0] - start, "extra": extra[0]}


async def warm_up(emulator: TimedEmulator, inject: Injector) -> None:
    await drive(emulator, inject, 1, 5, first_id=90_000_000, unmatched=False)


def figures(name: str, result: dict, asked: int, cpu: float) -> dict:
    """cpu: the bot processes' CPU seconds over the run; per answer it hardly depends on what else runs."""
    lat = result["latencies"]
    rate = len(lat) / result["wall"] if result["wall"] > 0 else 0.0
    row = {"name": name, "answered": len(lat), "asked": asked, "lost": result["lost"], "extra": result["extra"],
           "median_ms": statistics.median(lat) * 1000 if lat else float("nan"),
           "p99_ms": percentile(lat, 0.99) * 1000 if lat else float("nan"), "rate": rate, "wall": result["wall"],
           "cpu_ms": cpu / len(lat) * 1000 if lat else float("nan")}
    print(f"  {name:<42} answered {row['answered']:>5}/{asked:<5} lost {row['lost']:>3}  "
          f"median {row['median_ms']:8.1f} ms  p99 {row['p99_ms']:8.1f} ms  {rate:7.1f} answers/s  "
          f"CPU {row['cpu_ms']:.2f} ms/answer  ({row['wall']:.1f} s{', extra msgs %d' % row['extra'] if row['extra'] else ''})", flush=True)
    return row


async def scenario(name: str, args, work: Path, *, database_url: str | None = None, echo: bool = False,
                   instances: int = 0, uvloop: bool = False, json_transport: bool = False) -> dict | None:
    """instances=0: polling; 1 or 2: webhook mode with that many processes."""
    emulator = TimedEmulator().start()
    emulator.group_chat(GROUP_ID, "Библиотекари", supergroup=True)
    bots: list[Bot] = []
    inject = None
    try:
        if instances == 0:
            bots.append(Bot(emulator, work / name.replace(" ", "_").replace(",", ""), database_url, echo=echo, uvloop=uvloop,
                            json_transport=json_transport))
            await bots[0].ready()
            inject = Injector(emulator)
        else:
            ports = [free_port() for _ in range(instances)]
            for n, port in enumerate(ports):  # one after the other: the first applies the migrations
                bots.append(Bot(emulator, work / f"{name.replace(' ', '_')}_{n}", database_url, webhook_port=port))
                await bots[-1].ready()
            inject = Injector(emulator, ports, workers=args.citizens)
        await warm_up(emulator, inject)
        cpu = -sum(cpu_seconds(bot.pid) for bot in bots)
        result = await drive(emulator, inject, args.citizens, args.questions, first_id=10_000)
        cpu += sum(cpu_seconds(bot.pid) for bot in bots)
        row = figures(name, result, args.citizens * args.questions, cpu)
        if inject.failed_posts:
            print(f"    ({inject.failed_posts} webhook POSTs were not answered 200)")
        if emulator.errors:
            print(f"    ({len(emulator.errors)} emulator errors, first: {emulator.errors[0][:300]})")
        return row
    except Exception as error:  # noqa: BLE001 - a benchmark reports and goes on
        print(f"  {name}: failed: {error}", flush=True)
        return None
    finally:
        if inject:
            inject.close()
        for bot in bots:
            bot.stop()
        emulator.stop()


async def memory(args, work: Path) -> None:
    total = args.memory_questions
    per_session = max(1, args.questions)
    sessions = max(1, math.ceil(total / (args.citizens * per_session)))
    emulator = TimedEmulator().start()
    emulator.group_chat(GROUP_ID, "Библиотекари", supergroup=True)
    bot = Bot(emulator, work / "memory", None)
    try:
        await bot.ready()
        inject = Injector(emulator)
        await warm_up(emulator, inject)
        before = read_status(bot.pid)
        print(f"  after start and warm-up:   VmRSS {before['VmRSS'] / 1024:7.1f} MiB  VmHWM {before['VmHWM'] / 1024:7.1f} MiB",
              flush=True)

        def sample(answered: int) -> None:
            now = read_status(bot.pid)
            print(f"  after {answered:>6} answers:     VmRSS {now['VmRSS'] / 1024:7.1f} MiB  "
                  f"VmHWM {now['VmHWM'] / 1024:7.1f} MiB", flush=True)

        result = await drive(emulator, inject, args.citizens, per_session, first_id=1_000_000, sessions=sessions,
                             unmatched=False, every=2000, on_every=sample)
        after = read_status(bot.pid)
        lat = result["latencies"]
        print(f"  end ({len(lat)} answered, {result['lost']} lost, {sessions * args.citizens} citizens, "
              f"{len(lat) / result['wall']:.1f} answers/s): VmRSS {after['VmRSS'] / 1024:.1f} MiB, "
              f"peak VmHWM {after['VmHWM'] / 1024:.1f} MiB", flush=True)
    except Exception as error:  # noqa: BLE001
        print(f"  memory run failed: {error}", flush=True)
    finally:
        bot.stop()
        emulator.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each polling scenario, interleaved")
    parser.add_argument("--memory-questions", type=int, default=10_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="egov-bench-bot-"))
    started = time.perf_counter()
    print(f"egov-bot end-to-end benchmark: {args.citizens} citizens x {args.questions} questions, "
          f"{args.rounds} rounds, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}", flush=True)
    print(f"  (flood guard lifted in the bot processes; both bots send through AIORateLimiter at {SEND_RATE:g}/s; "
          "latency = injection -> sendMessage seen by the emulator)", flush=True)
    server = None if args.skip_postgres else PostgresServer()
    try:
        if server is not None and server.available:
            try:
                server.start()
            except Exception as error:  # noqa: BLE001 - a benchmark reports and goes on
                print(f"PostgreSQL did not start: {error}", flush=True)
                server.stop()
                server = None
        # The bots take turns, round after round: a neighbour's load on a shared machine then falls on each of
        # them alike, and the medians compare like with like.
        polling = {"echo bot (bare PTB)": {"echo": True}, "echo bot (bare PTB) on uvloop": {"echo": True, "uvloop": True},
                   "echo bot, uvloop, JSON transport": {"echo": True, "uvloop": True, "json_transport": True},
                   "egov-bot, SQLite": {}}
        if server is not None and server.available:
            polling["egov-bot, PostgreSQL"] = {"database": True}
        rows: dict[str, list[dict]] = {name: [] for name in polling}
        for round_ in range(1, args.rounds + 1):
            print(f"\nPolling, round {round_}", flush=True)
            for name, how in polling.items():
                url = server.create_database() if how.get("database") else None
                row = await scenario(f"{name}, polling", args, work / f"round-{round_}", database_url=url, echo=how.get("echo", False),
                                     uvloop=how.get("uvloop", False), json_transport=how.get("json_transport", False))
                if row:
                    rows[name].append(row)
        print(f"\nPolling, medians over {args.rounds} rounds", flush=True)
        medians = {name: {key: statistics.median(r[key] for r in runs) for key in ("rate", "cpu_ms", "median_ms", "p99_ms")}
                   for name, runs in rows.items() if runs}
        for name, m in medians.items():
            print(f"  {name:<36} {m['rate']:7.1f} answers/s  CPU {m['cpu_ms']:.2f} ms/answer  "
                  f"latency median {m['median_ms']:.1f} ms  p99 {m['p99_ms']:.1f} ms", flush=True)
        for base_name in ("echo bot (bare PTB)", "echo bot, uvloop, JSON transport"):
            base = medians.get(base_name)
            for name in ("egov-bot, SQLite", "egov-bot, PostgreSQL"):
                if base and name in medians:
                    print(f"  {name}: throughput {100 * medians[name]['rate'] / base['rate']:.0f}% of the {base_name}'s, "
                          f"CPU per answer {medians[name]['cpu_ms'] / base['cpu_ms']:.2f}x", flush=True)
        if server is None:
            print("\nPostgreSQL: skipped (--skip-postgres)")
        elif not server.available:
            print("\nPostgreSQL: skipped: no PostgreSQL binaries (pg_ctl not on PATH nor in /usr/lib/postgresql)")
        else:
            print("\nPostgreSQL, webhooks", flush=True)
            for label, instances in (("webhook, 1 instance", 1), ("webhook, 2 instances", 2)):
                await scenario(f"egov-bot, PostgreSQL, {label}", args, work,
                               database_url=server.create_database(), instances=instances)

        print("\nMemory (egov-bot, SQLite, polling)", flush=True)
        if args.memory_questions <= 0:
            print("  skipped (--memory-questions 0)")
        else:
            await memory(args, work)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\ntotal time {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
