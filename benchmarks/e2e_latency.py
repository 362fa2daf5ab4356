"""Round trip through real processes and real gRPC: a member says something in a room on the test gateway → the bot's
answer reaches the gateway. tuanbot (`tuanbot run`) against the bare python-wechaty echo bot, same gateway, same run.

    python benchmarks/e2e_latency.py [--messages 200] [--warmup 20] [--json]

Needs node/npm (the gateway in tests/e2e/gateway). Times are taken on the gateway's clock: from the moment it emits
the member's message event to the moment the bot's send arrives, so the HTTP polling of this script is not in them.
tuanbot answers a leader's `汇总 <name>` for an unknown buy ("本群没有叫「…」的团购。"): the whole pipeline — channel,
stored dedupe, dispatch, handler, the persisted outbound queue and the sender — with sender spacing and rate limits
off. The echo bot answers `echo:<text>`. Messages are sequential (one in flight). The old target, tuanbot p50
≤ 2× echo p50, went with the SQLite fast lane (docs/decisions.md, "One write path"): ~3× now, a few ms behind
the sender's deliberate 0.3–1.2 s spacing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.bot_process import BotProcess, e2e_config  # noqa: E402
from tests.e2e.gateway_process import GatewayProcess  # noqa: E402

ROOM = "bench@chatroom"
GROUP = "压测群"
LEADER = {"id": "wxid_zhang", "name": "张姐"}


def _round_trips(
    gw: GatewayProcess, n: int, say: Callable[[int], str], answer: Callable[[int], str], gap: float = 0.0
) -> list[float]:
    """n sequential round trips (ms, gateway clock), `gap` seconds apart."""
    out = []
    for i in range(n):
        if gap:
            time.sleep(gap)
        sent = gw.say_raw(ROOM, LEADER["id"], say(i))
        want = answer(i)
        said = gw.wait_said(lambda s, w=want: any(x["text"] == w for x in s), room_id=ROOM, timeout=10, interval=0.002)
        reply = next(x for x in said if x["text"] == want)
        out.append(float(reply["at"]) - float(sent["at"]))
        gw.clear_said()
    return out


def _stats(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100)
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p90_ms": round(q[89], 2),
        "p99_ms": round(q[98], 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
    }


def measure_tuanbot(gw: GatewayProcess, workdir: Path, n: int, warmup: int, gap: float) -> list[float]:
    config = e2e_config([{"name": GROUP, "leaders": [LEADER["name"]]}])
    bot = BotProcess(workdir, config, gw.client_env()).start()
    try:
        bot.wait_event("channel_connected", timeout=60)
        say, answer = (lambda i: f"汇总 b{i}"), (lambda i: f"本群没有叫「b{i}」的团购。")
        _round_trips(gw, warmup, lambda i: say(-1 - i), lambda i: answer(-1 - i), gap)
        return _round_trips(gw, n, say, answer, gap)
    finally:
        code = bot.stop()
        if code != 0:
            sys.stderr.write(f"tuanbot run exited {code}:\n{bot.tail()}\n")


def measure_echo(gw: GatewayProcess, workdir: Path, n: int, warmup: int, gap: float) -> list[float]:
    env = {**os.environ, **gw.client_env(), "CACHE_DIR": str(workdir / ".wechaty"), "WECHATY_LOG": "warn"}
    with open(workdir / "echo.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "e2e" / "echo_bot.py")], cwd=workdir, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while True:  # logged in on the gateway and answering
            try:
                _round_trips(gw, 1, lambda i: "ping", lambda i: "echo:ping")
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
        say = lambda i: f"rtt {i}"  # noqa: E731
        _round_trips(gw, warmup, say, lambda i: "echo:" + say(i), gap)
        return _round_trips(gw, n, say, lambda i: "echo:" + say(i), gap)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.0, help="seconds between two messages (0: back to back)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tuanbot-e2e-bench-") as tmp:
        work = Path(tmp)
        (work / "tuanbot").mkdir()
        (work / "echo").mkdir()
        with GatewayProcess(log_path=work / "gateway.log") as gw:
            gw.create_room(ROOM, topic=GROUP, members=[LEADER, {"id": "wxid_wang", "name": "王阿姨"}])
            tuanbot = measure_tuanbot(gw, work / "tuanbot", args.messages, args.warmup, args.gap)
            echo = measure_echo(gw, work / "echo", args.messages, args.warmup, args.gap)
    result: dict[str, Any] = {
        "messages": args.messages,
        "gap_s": args.gap,
        "tuanbot": _stats(tuanbot),
        "echo_bot": _stats(echo),
    }
    result["p50_ratio"] = round(result["tuanbot"]["p50_ms"] / result["echo_bot"]["p50_ms"], 2)
    result["p99_ratio"] = round(result["tuanbot"]["p99_ms"] / result["echo_bot"]["p99_ms"], 2)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"e2e round trip over the test gateway, {args.messages} sequential messages each (gateway clock)")
        for name in ("tuanbot", "echo_bot"):
            s = result[name]
            print(
                f"  {name:9s} p50 {s['p50_ms']:7.2f} ms  p90 {s['p90_ms']:7.2f}  p99 {s['p99_ms']:7.2f}  "
                f"min {s['min_ms']:6.2f}  max {s['max_ms']:7.2f}"
            )
        print(f"  tuanbot/echo: p50 {result['p50_ratio']}x, p99 {result['p99_ratio']}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
