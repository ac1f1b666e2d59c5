"""End-to-end benchmark: the real bot against a bare matrix-nio echo bot (the floor), on
one local Synapse, in the same run.

- latency of 200 sequential questions (agent send -> reply received), plain and
  encrypted direct chats, echo and bot interleaved question by question;
- throughput: 20 agents asking 20 questions each at once (encrypted direct chats);
- the bot's RSS at idle and under load (/proc/PID/status);
- bot process start -> first answer, with the homeserver already up.

Run with `make bench` (or `SYNAPSE_PYTHON=... python -m tests.bench.e2e_bench`). Prints
figures and ratios against the targets of issue 5; asserts nothing. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.bench.core_bench import questions
from tests.integration.agents import (
    Agent,
    collect_replies,
    create_dm,
    in_reply_to,
    send_text,
    wait_for_join,
)
from tests.integration.botproc import BOT_DISPLAY_NAME, BotProcess
from tests.integration.homeserver import Account, Homeserver

ROOT = Path(__file__).resolve().parents[2]
SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "200"))
AGENTS = int(os.environ.get("BENCH_AGENTS", "20"))
PER_AGENT = int(os.environ.get("BENCH_PER_AGENT", "20"))
WARMUP = 5
REPLY_TIMEOUT = 20.0
THROUGHPUT_TIMEOUT = 150.0


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class EchoBot:
    """The floor, as a subprocess (tests/bench/echo_bot.py)."""

    def __init__(self, server: Homeserver, account: Account, directory: Path) -> None:
        self.account = account
        self.user_id = account.user_id
        self.log_path = directory / "echo.log"
        self.args = [
            sys.executable,
            "-m",
            "tests.bench.echo_bot",
            "--homeserver",
            server.url,
            "--user-id",
            account.user_id,
            "--device-id",
            account.device_id,
            "--store",
            str(directory / "echo-store"),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        env = {**os.environ, "ECHO_BOT_ACCESS_TOKEN": self.account.access_token}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 (returns at once)
                self.args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while "ready" not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("echo bot did not start:\n" + self.log_path.read_text())
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def ask(agent: Agent, room_id: str, text: str, timeout: float = REPLY_TIMEOUT) -> float:  # noqa: ASYNC109
    """Send one question and return the seconds until its reply is received."""
    started = time.perf_counter()
    event_id = await send_text(agent, room_id, text)
    replies = await collect_replies(
        agent, room_id, after=event_id, predicate=lambda e: in_reply_to(e) == event_id,
        timeout=timeout,
    )  # fmt: skip
    if not replies:
        raise TimeoutError(f"no reply to {event_id} in {timeout} s")
    return time.perf_counter() - started


def line(name: str, samples: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = (percentile(samples, q) * 1000 for q in (0.5, 0.95, 0.99))
    print(f"    {name:6s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms")
    return p50, p95, p99


async def latency(agent: Agent, rooms: dict[str, str], texts: list[str], encrypted: bool) -> float:
    """Interleaved echo/bot questions in `rooms` {"echo": room, "bot": room}; p50 ratio."""
    for i in range(WARMUP):
        for room_id in rooms.values():
            await ask(agent, room_id, texts[i % len(texts)])
    samples: dict[str, list[float]] = {name: [] for name in rooms}
    for i in range(SEQUENTIAL):
        for name, room_id in rooms.items():
            samples[name].append(await ask(agent, room_id, texts[i % len(texts)]))
    kind = "encrypted" if encrypted else "plain"
    print(f"  latency, {SEQUENTIAL} sequential questions, {kind} direct chat:")
    floor = line("echo", samples["echo"])
    bot = line("bot", samples["bot"])
    ratio = bot[0] / floor[0]
    print(
        f"    ratio bot/floor: p50 {ratio:.2f}  p95 {bot[1] / floor[1]:.2f}  "
        f"p99 {bot[2] / floor[2]:.2f}   (target p50 <= 1.10: {verdict(ratio <= 1.10)})"
    )
    return ratio


async def throughput(
    agents: list[Agent], rooms: list[str], texts: list[str], sample: Callable[[], None]
) -> tuple[float, int, int, float]:
    """All agents ask PER_AGENT questions at once; (answers/s, answered, duplicates, s)."""
    started = time.perf_counter()

    async def one(agent: Agent, room_id: str) -> list[str]:
        return [await send_text(agent, room_id, texts[i % len(texts)]) for i in range(PER_AGENT)]

    asked = await asyncio.gather(*(one(a, r) for a, r in zip(agents, rooms, strict=True)))
    sent_at = time.perf_counter() - started

    async def answers(agent: Agent, room_id: str, wanted: set[str]) -> Counter[str | None]:
        def done() -> bool:
            got = {in_reply_to(e) for e in collect_now(agent, room_id)}
            return wanted <= got

        with contextlib.suppress(TimeoutError):
            await agent.wait_until(done, THROUGHPUT_TIMEOUT, "all answered")
        return Counter(in_reply_to(e) for e in collect_now(agent, room_id))

    async def sampler() -> None:
        while True:
            sample()
            await asyncio.sleep(0.5)

    sampling = asyncio.create_task(sampler())
    counts = await asyncio.gather(
        *(answers(a, r, set(q)) for a, r, q in zip(agents, rooms, asked, strict=True))
    )
    elapsed = time.perf_counter() - started
    sampling.cancel()
    answered = sum(1 for c, q in zip(counts, asked, strict=True) for e in q if c[e] >= 1)
    duplicates = sum(1 for c, q in zip(counts, asked, strict=True) for e in q if c[e] > 1)
    print(f"      (all {len(agents) * PER_AGENT} questions sent in {sent_at:.1f} s)")
    return answered / elapsed, answered, duplicates, elapsed


def collect_now(agent: Agent, room_id: str) -> list[object]:
    return [
        e
        for e in agent.timeline(room_id)
        if getattr(e, "sender", None) != agent.user_id and in_reply_to(e) is not None
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def main() -> None:
    texts = questions()
    bench_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp:
        base = Path(tmp)
        server = Homeserver(base / "synapse", ratelimits="relaxed")
        await server.astart()
        agents: list[Agent] = []
        echo: EchoBot | None = None
        bot: BotProcess | None = None
        try:
            print(
                f"e2e benchmark — Synapse {synapse_version(server)}, 127.0.0.1:{server.port}, "
                f"relaxed rate limits, python {sys.version.split()[0]}"
            )
            echo_account = await server.aregister("echo", displayname="Echo")
            bot_account = await server.aregister("outils", displayname=BOT_DISPLAY_NAME)
            echo = EchoBot(server, echo_account, base)
            bot = BotProcess(
                server,
                bot_account,
                base / "bot",
                # 20 questions at once per agent is the load test here, not abuse: the
                # per-agent cap (default 10 queued) would refuse part of it by design.
                behaviour={"greet_on_join": False, "max_queued_per_agent": 100},
                sync={"timeout": "30s"},
            )
            await echo.start()
            t0 = time.perf_counter()
            await bot.astart()
            ready_first = time.perf_counter() - t0

            async def new_agent(name: str) -> Agent:
                account = await server.aregister(name)
                store = base / "agents" / f"{name}-{account.device_id}"
                agent = await Agent.connect(server.url, account, store)
                agents.append(agent)
                return agent

            async def dm(agent: Agent, user_id: str, encrypted: bool) -> str:
                room_id = await create_dm(agent, user_id, encrypted=encrypted)
                await wait_for_join(agent, room_id, user_id, timeout=30)
                return room_id

            lat = await new_agent("latency")
            plain = {
                "echo": await dm(lat, echo.user_id, False),
                "bot": await dm(lat, bot.user_id, False),
            }
            encrypted = {
                "echo": await dm(lat, echo.user_id, True),
                "bot": await dm(lat, bot.user_id, True),
            }

            # -- start to first answer (restart, homeserver up) -----------------------
            await ask(lat, encrypted["bot"], texts[0])
            assert await bot.astop() == 0
            t0 = time.perf_counter()
            starting = asyncio.create_task(bot.astart())
            first_answer = await ask(lat, encrypted["bot"], texts[1], timeout=30)
            await starting
            first_answer_start = time.perf_counter() - t0
            print("  start:")
            print(f"    first start (login, keys upload, first sync): ready in {ready_first:.2f} s")
            print(
                f"    restart -> first answer (question sent at spawn): {first_answer_start:.2f} s"
                f" (round trip {first_answer:.2f} s)   (target <= 3 s: "
                f"{verdict(first_answer_start <= 3)})"
            )
            await asyncio.sleep(2)
            assert bot.pid is not None
            idle_rss = rss_mb(bot.pid)

            # -- latency --------------------------------------------------------------
            ratios = [
                await latency(lat, plain, texts, encrypted=False),
                await latency(lat, encrypted, texts, encrypted=True),
            ]

            # -- throughput -----------------------------------------------------------
            crowd = [await new_agent(f"agent{i:02d}") for i in range(AGENTS)]
            echo_rooms = await asyncio.gather(*(dm(a, echo.user_id, True) for a in crowd))
            bot_rooms = await asyncio.gather(*(dm(a, bot.user_id, True) for a in crowd))
            load_rss: list[float] = []
            pid = bot.pid
            print(f"  throughput, {AGENTS} agents x {PER_AGENT} questions at once (encrypted):")
            results = {}
            for name, rooms in (("echo", echo_rooms), ("bot", bot_rooms)):
                rate, answered, dups, elapsed = await throughput(
                    crowd,
                    list(rooms),
                    texts,
                    (lambda: load_rss.append(rss_mb(pid))) if name == "bot" else (lambda: None),
                )
                results[name] = rate
                print(
                    f"    {name:6s} {rate:5.1f} answers/s  {answered}/{AGENTS * PER_AGENT} "
                    f"answered, {dups} twice, in {elapsed:.1f} s"
                )
            ratio = results["bot"] / results["echo"]
            print(f"    ratio bot/floor: {ratio:.2f}   (target >= 0.90: {verdict(ratio >= 0.9)})")

            peak = max(load_rss or [float("nan")])
            hwm = rss_mb(pid, "VmHWM")
            print("  bot memory:")
            print(
                f"    RSS idle {idle_rss:.1f} MB, under load max {peak:.1f} MB "
                f"(VmHWM {hwm:.1f} MB)   (target <= 120 MB: {verdict(max(peak, hwm) <= 120)})"
            )
            cpu = bot_cpu_seconds(pid)
            print(f"    bot CPU time for the whole run: {cpu:.1f} s")
            print(
                f"  summary: latency p50 ratios plain {ratios[0]:.2f}, encrypted {ratios[1]:.2f}; "
                f"throughput ratio {ratio:.2f}; RSS {max(peak, hwm):.0f} MB; "
                f"first answer {first_answer_start:.2f} s; "
                f"bench {time.perf_counter() - bench_started:.0f} s"
            )
        finally:
            for agent in reversed(agents):
                await agent.close()
            if bot is not None:
                await bot.astop(grace=15)
            if echo is not None:
                echo.stop()
            await server.astop()


def synapse_version(server: Homeserver) -> str:
    try:
        path = "/_synapse/admin/v1/server_version"
        reply = server.request("GET", path, access_token=server.admin_token)
        return str(reply["server_version"]).split()[0]
    except Exception:
        return "?"


def bot_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


if __name__ == "__main__":
    logging.getLogger("nio").setLevel(logging.ERROR)  # "Missing session for device" noise
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    asyncio.run(main())
