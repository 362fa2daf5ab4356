"""Chaos: a 接龙 burst through the e2e gateway and `tuanbot run` as real processes, with the bot SIGKILLed again and
again, the gateway killed a few times (and Redis, on PostgreSQL), then the store judged against what the members
really ordered, and `tuanbot rebuild` run on it.

    python benchmarks/chaos.py [--backend sqlite|pg] [--json] [--seed 17] [--members 150] [--kills 22]

The simulated group, its rules and how a defect is counted are in `benchmarks/chaos_model.py` (the script is decided
up front from the seed; what the bot misses depends on timing). The faults, at points spread over the burst:
- bot SIGKILL `mid_burst` (0-0.2 s after a message), `after_message` (the instant the gateway emitted it),
  `after_digest` (the instant a digest reaches the gateway); every fourth kill is one more SIGKILL during the next
  start-up, before it connects. After a kill the next 0-3 member messages are said while the bot is down (the
  gateway does not replay them: the bot never sees them), then the bot is started again;
- gateway SIGKILL: back on the same ports after ~1 s with a fresh mock world (the room is made again); the bot
  reconnects by itself; 1-2 recent messages are delivered again meanwhile;
- on PostgreSQL, Redis (a redis-server of our own on a spare port) SIGKILLed under traffic, two recent messages
  delivered again at once, and Redis started again 6-12 member messages later.

Members speak every ~0.12 s (`--gap`), the pace of a busy 接龙; a bot still working through a backlog loses the
messages it had received but not yet journaled when it is killed (the report counts those apart from the ones said
while it was down). Then two members post the group's whole list, the bot is stopped with SIGTERM, and the store is
read.
Counts (`--json`, last line): the model's five defect counters per member, `never_handled` (messages stored and never
marked handled), `repeated_digests` (digests telling a member's unchanged order again, `chaos_model.repeated_digests`),
`rebuild_differences` (lines `tuanbot rebuild` prints), `recover_*_s` (from spawning a killed bot's successor to its
`channel_connected`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from benchmarks.chaos_model import (  # noqa: E402
    LEADER,
    GatewayKill,
    Kill,
    Msg,
    RedisKill,
    Script,
    is_digest,
    judge,
    repeated_digests,
)
from benchmarks.chaos_support import PG_ADMIN, LogTail, OwnRedis, admin, handled_ids, read_store  # noqa: E402
from tests.e2e.bot_process import BotProcess, e2e_config  # noqa: E402
from tests.e2e.gateway_process import GatewayProcess  # noqa: E402

GROUP = "阳光花园团购群"
ROOM = "chaos@chatroom"


class Chaos:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.script = Script(args.seed, args.members, args.kills, args.gateway_kills, args.redis_kills)
        self.rng = random.Random(args.seed * 7919 + 1)  # timings: separate from the script's choices
        self.members = [LEADER] + [{"id": m.wxid, "name": m.name} for m in self.script.members]
        self.said_at: dict[int, float] = {}
        self.said: list[tuple[float, str]] = []
        self.said_seen = 0  # items of the current gateway's said-list already in self.said
        self.recover: list[float] = []
        self.messages = self.kills = 0
        self.log: list[str] = []
        self.details: dict[str, Any] = {}
        self.kill_times: list[tuple[float, str]] = []
        self.up = False  # the bot is connected (else what members say now is not delivered to it)
        self.said_down: set[int] = (
            set()
        )  # message ids (by seq) said while it was not  # epoch ms (the gateway's clock is this machine's)
        self.redis: OwnRedis | None = None
        self.db_url = f"sqlite+aiosqlite:///{work / 'data' / 'tuanbot.db'}"
        self.gw = GatewayProcess(log_path=work / "gateway.log")
        self.bot: BotProcess
        self.tail: LogTail

    # --- processes -------------------------------------------------------------------------------------------------

    def setup(self) -> None:
        env: dict[str, str] = {}
        drop: tuple[str, ...] = ("TUANBOT_REDIS_URL",)
        if self.args.backend == "pg":
            name = f"chaos_{uuid.uuid4().hex[:10]}"
            asyncio.run(admin(f'CREATE DATABASE "{name}"'))
            self.db_name = name
            self.db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
            self.redis = OwnRedis(self.work)
            self.redis.start()
            env = {"TUANBOT_DATABASE_URL": self.db_url, "TUANBOT_REDIS_URL": self.redis.url}
            drop = ()
        self.gw.start()
        self.room()
        config = e2e_config([{"name": GROUP, "leaders": [LEADER["name"]]}])
        self.bot = BotProcess(self.work, config, self.gw.client_env(), extra_env=env, drop_env=drop)
        self.tail = LogTail(self.bot.log_path)
        self.spawn(measure=False)

    def room(self) -> None:
        self.gw.create_room(ROOM, topic=GROUP, members=self.members)

    def spawn(self, *, measure: bool = True, startup_kills: int = 0) -> None:
        for _ in range(startup_kills):  # killed while starting: before it has connected
            self.bot.start()
            time.sleep(self.rng.uniform(0.2, 1.5))
            self.kill_bot("startup")
        self.tail.new()
        began = time.monotonic()
        self.bot.start()
        if not self.tail.wait("channel_connected", 90, self.bot):
            raise RuntimeError(f"the bot did not connect within 90 s:\n{self.bot.tail()}")
        self.up = True
        if measure:
            self.recover.append(time.monotonic() - began)

    def kill_bot(self, why: str) -> None:
        assert self.bot.proc is not None
        self.bot.proc.kill()
        self.bot.proc.wait(10)
        self.up = False
        self.kills += 1
        self.log.append(f"kill {self.kills}: {why}")
        self.kill_times.append((time.time() * 1000, f"kill {self.kills} ({why})"))

    def collect_said(self) -> list[dict[str, Any]]:
        items = self.gw.said(ROOM)
        for item in items[self.said_seen :]:
            self.said.append((float(item["at"]), str(item["text"])))
        self.said_seen = len(items)
        return items

    # --- the run ---------------------------------------------------------------------------------------------------

    def say(self, msg: Msg) -> None:
        mid = f"chaos-{self.args.seed}-{msg.again if msg.again is not None else msg.seq}"
        answer = self.gw.say_raw(ROOM, msg.talker, msg.text, message_id=mid)
        self.said_at.setdefault(msg.seq, float(answer["at"]))
        if not self.up:
            self.said_down.add(msg.again if msg.again is not None else msg.seq)
        self.messages += 1
        time.sleep(self.args.gap * self.rng.uniform(0.5, 1.5))

    def run(self) -> None:
        down = 0  # messages left to say before the killed bot is started again
        pending: Kill | None = None  # the kill the bot is down from
        finals = 0
        redis_left = 0  # messages left to say before the killed Redis is started again
        for step in self.script.steps:
            if redis_left > 0 and isinstance(step, Msg) and step.kind == "final":
                redis_left = self.redis_back()
            if pending is not None and (not isinstance(step, Msg) or step.kind == "final"):
                self.spawn(startup_kills=pending.startup)  # nothing but member messages happens while it is down
                pending = None
            if isinstance(step, Msg):
                if step.kind == "final" and finals == 0:
                    self.settle(2.0)  # the burst is over: the full copies come to a bot that is up and quiet
                finals += step.kind == "final"
                self.say(step)
                down -= 1
                redis_left -= 1
                if redis_left == 0:
                    redis_left = self.redis_back()
            elif isinstance(step, Kill):
                self.kill(step)
                pending, down = step, step.down
            elif isinstance(step, GatewayKill):
                self.kill_gateway(step)
            elif isinstance(step, RedisKill) and self.redis is not None and redis_left <= 0:
                self.redis.kill()
                self.log.append("redis killed")
                for msg in self.next_messages(2):  # redeliveries too, with no handled marks to answer them
                    self.say(msg)
                redis_left = step.down
            if pending is not None and down <= 0:
                self.spawn(startup_kills=pending.startup)
                pending = None
        finals_ids = {f"chaos-{self.args.seed}-{m.seq}" for m in self.script.msgs if m.kind == "final"}
        deadline = time.monotonic() + 120
        while not finals_ids <= asyncio.run(handled_ids(self.db_url, finals_ids)):
            if time.monotonic() > deadline:
                self.log.append("the final copies were not handled within 120 s")
                break
            time.sleep(0.3)
        self.settle(2.0)

    def kill(self, step: Kill) -> None:
        if step.mode == "mid_burst":
            time.sleep(self.rng.uniform(0, 0.2))
        elif step.mode == "after_digest":
            before = len(self.collect_said())
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                items = self.gw.said(ROOM)
                if any(is_digest(x["text"]) for x in items[before:]):
                    break
                time.sleep(0.003)
            else:
                step.mode = "after_digest (none came in 3 s)"
        self.kill_bot(step.mode)

    def kill_gateway(self, step: GatewayKill) -> None:
        self.collect_said()
        self.gw.kill()
        self.up = False
        self.log.append("gateway killed")
        time.sleep(self.rng.uniform(0.5, 1.5))
        self.gw.restart()
        self.said_seen = 0
        self.room()
        for msg in self.next_messages(step.down):
            self.say(msg)
        if not self.tail.wait("channel_reconnected", 60, self.bot):
            raise RuntimeError(f"the bot did not reconnect to the gateway:\n{self.bot.tail()}")
        self.up = True

    def redis_back(self) -> int:
        assert self.redis is not None
        self.redis.start()
        self.log.append("redis back")
        return 0

    def next_messages(self, n: int) -> list[Msg]:
        """Filler said during an outage: recent messages delivered again (same id), so the script keeps its order."""
        said = sorted(self.said_at)
        picks = [self.script.msgs[self.rng.choice(said)] for _ in range(n)]
        return [
            Msg(m.seq, "redeliver", m.talker, m.text, again=m.again if m.again is not None else m.seq) for m in picks
        ]

    def settle(self, quiet: float, limit: float = 30.0) -> None:
        """Wait until the bot has said nothing new for `quiet` seconds."""
        deadline, last, count = time.monotonic() + limit, time.monotonic(), -1
        while time.monotonic() < deadline:
            n = len(self.collect_said())
            if n != count:
                count, last = n, time.monotonic()
            if time.monotonic() - last >= quiet:
                return
            time.sleep(0.2)

    # --- the verdict -----------------------------------------------------------------------------------------------

    def verdict(self) -> dict[str, Any]:
        orders, stored_ids, unhandled, lines = asyncio.run(read_store(self.db_url))
        ids = {s: f"chaos-{self.args.seed}-{s}" for s in range(len(self.script.msgs))}
        missed = {s for s, mid in ids.items() if mid not in stored_ids}
        notes = {s: "missed" for s in missed} | {
            s: "stored, never handled" for s, mid in ids.items() if mid in unhandled
        }
        counts, defects = judge(self.script, orders, notes)
        doubled = {d.member.replace(" ", "") for d in defects if d.kind == "duplicated"}
        repeats = repeated_digests(self.script, sorted(self.said), self.said_at, doubled)
        rebuild = self.rebuild()
        recover = self.recover or [0.0]
        self.details = {"defects": defects, "repeats": repeats, "rebuild": rebuild, "missed": missed, "lines": lines}
        return {
            "kills": self.kills,
            "messages": self.messages,
            "expected": sum(q is not None for q in self.script.truth().values()),
            **{k: counts[k] for k in ("lost", "duplicated", "wrong_qty", "cancel_missed", "wrongly_cancelled")},
            "never_handled": len(unhandled),
            "repeated_digests": len(repeats),
            "rebuild_differences": len(rebuild),
            "recover_p50_s": round(statistics.median(recover), 2),
            "recover_max_s": round(max(recover), 2),
        }

    def rebuild(self) -> list[str]:
        cmd = [sys.executable, "-m", "bot.cli", "rebuild", "--config", str(self.bot.config_path)]
        cmd += ["--data-dir", str(self.bot.data_dir)]
        env = {**self.bot.env}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=self.work)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"tuanbot rebuild failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        return [ln for ln in proc.stdout.splitlines() if ln[:2] in {"- ", "+ ", "~ "}]

    def teardown(self) -> None:
        if getattr(self, "bot", None) is not None:
            self.bot.stop(signal.SIGTERM, timeout=30)
        self.gw.stop()
        if self.redis is not None:
            self.redis.kill()


def report(chaos: Chaos, result: dict[str, Any]) -> None:
    d = chaos.details
    print(f"backend {chaos.args.backend}, seed {chaos.args.seed}, {len(chaos.script.members)} members")
    print(f"faults: {'; '.join(chaos.log)}")
    down = {f"chaos-{chaos.args.seed}-{s}" for s in chaos.said_down}
    ids = {f"chaos-{chaos.args.seed}-{s}" for s in d["missed"]} & {
        f"chaos-{chaos.args.seed}-{m.again if m.again is not None else m.seq}" for m in chaos.script.msgs
    }
    print(
        f"messages (distinct ids) the bot never stored: {len(ids)}: {len(ids & down)} said while it was down or"
        f" reconnecting, {len(ids - down)} delivered to a running bot and lost with it at a kill"
    )
    names = {m.wxid: m.name for m in chaos.script.members}
    for defect in d["defects"]:
        print(f"  {defect.kind:18} {defect.member}: wants {defect.want}, stored {defect.stored}; {defect.story}")
        for who, raw, author, first, status in d["lines"]:
            if who.replace(" ", "") == defect.member.replace(" ", ""):
                seq = str(first).rsplit("-", 1)[-1]
                line = raw.replace(who, "").strip() or "(bare label)"
                print(f"  {'':18}   line {line!r} {status}, author {names.get(author, author)}, first in #{seq}")
    for r in d["repeats"]:
        kills = [k for t, k in chaos.kill_times if r.told_at < t < r.at]
        print(
            f"  repeated digest: {r.again}/{r.facts} members told again {(r.at - r.told_at) / 1000:.1f} s later"
            f" ({', '.join(kills) or 'no kill between'}), e.g. {r.example}"
        )
    for line in d["rebuild"][:20]:
        print(f"  rebuild: {line}")
    for k, v in result.items():
        print(f"{k:>20}: {v}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    p.add_argument("--json", action="store_true", help="the counts as one JSON object on the last line")
    p.add_argument("--seed", type=int, default=17)
    p.add_argument("--members", type=int, default=150)
    p.add_argument("--kills", type=int, default=22, help="bot SIGKILLs")
    p.add_argument("--gateway-kills", type=int, default=3)
    p.add_argument("--redis-kills", type=int, default=None, help="default: 2 on pg, none on sqlite")
    p.add_argument("--gap", type=float, default=0.12, help="mean seconds between two member messages")
    p.add_argument("--keep", action="store_true", help="keep the work dir (logs, store) and print where")
    args = p.parse_args(argv)
    if args.redis_kills is None:
        args.redis_kills = 2 if args.backend == "pg" else 0
    if args.backend == "sqlite" and args.redis_kills:
        p.error("--redis-kills needs --backend pg")
    work = Path(tempfile.mkdtemp(prefix="tuanbot-chaos-"))
    chaos = Chaos(args, work)
    try:
        chaos.setup()
        chaos.run()
        chaos.teardown()
        result = chaos.verdict()
    finally:
        chaos.teardown()
        if args.backend == "pg" and hasattr(chaos, "db_name") and not args.keep:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{chaos.db_name}" WITH (FORCE)'))
        if args.keep:
            print(f"work dir: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(chaos, result)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
