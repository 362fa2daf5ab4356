"""End-to-end smoke run: test gateway + the bare python-wechaty echo bot, all real processes.

    python tests/e2e/run_smoke.py --python /tmp/wvenv/bin/python [--down 2] [--rtt 100] [--skip-drop]

``--python`` is an interpreter with python-wechaty installed (tests/e2e/requirements-wechaty.txt);
this script itself needs only the stdlib. It prints one JSON report on stdout: login, echo, the
native 接龙 XML as the client sees it, duplicate delivery, invitation / join / topic events,
logout, round-trip times, SIGKILL + restart of the gateway, and a wrong token.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway_process import GatewayError, GatewayProcess  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOM = "e2e-room-1@chatroom"
CORPUS_XML = HERE.parent / "fixtures" / "corpus" / "xml_001.xml"


def corpus_xml() -> str:
    path = Path(os.environ.get("E2E_XML", CORPUS_XML))
    text = path.read_text(encoding="utf-8")
    # drop the corpus file's '# source/note' header lines, keep "wxid:\n<?xml ...>" verbatim
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# "))


class Bot:
    """The echo bot as a subprocess, its TRACE lines collected from stderr."""

    def __init__(self, python: str, env: dict[str, str], cwd: str, log_path: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.log = open(log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [python, str(HERE / "echo_bot.py")],
            cwd=cwd,
            env={**os.environ, **env, "E2E_TRACE": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.stdout = ""
        threading.Thread(target=self._read_err, daemon=True).start()
        threading.Thread(target=self._read_out, daemon=True).start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.write(line)
            self.log.flush()
            if line.startswith("TRACE "):
                self.events.append(json.loads(line[6:]))

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout.read()

    def wait_event(self, pred: Any, timeout: float = 10.0, start: int = 0) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.events[start:]:
                if pred(ev):
                    return ev
            time.sleep(0.005)
        return None

    def named(self, name: str, start: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.events[start:] if e["event"] == name]

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=os.environ.get("E2E_WECHATY_PYTHON", sys.executable))
    ap.add_argument("--down", type=float, default=2.0, help="seconds the gateway stays dead after SIGKILL")
    ap.add_argument("--reconnect-wait", type=float, default=90.0)
    ap.add_argument("--rtt", type=int, default=100, help="number of sequential round trips to time")
    ap.add_argument("--skip-drop", action="store_true")
    opts = ap.parse_args()

    report: dict[str, Any] = {}
    workdir = tempfile.mkdtemp(prefix="tuanbot-e2e-")
    gw = GatewayProcess(log_path=os.path.join(workdir, "gateway.log")).start()
    report["gateway"] = {"grpc": gw.grpc_port, "http": gw.http_port, "log": str(gw.log_path)}
    bot: Bot | None = None
    try:
        members = [{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}]
        gw.create_room(ROOM, topic="团购测试群", members=members)
        t0 = time.time()
        bot = Bot(
            opts.python,
            {**gw.client_env(), "WECHATY_LOG": "info", "E2E_ACCEPT_INVITES": "1"},
            workdir,
            os.path.join(workdir, "bot.log"),
        )
        login = bot.wait_event(lambda e: e["event"] == "login", 30)
        report["login"] = {
            "ok": login is not None,
            "seconds": round(login["t"] - t0, 3) if login else None,
            "id": login["args"][0] if login else None,
        }

        # echo
        mid = gw.say(ROOM, "alice", "1. 苹果 2斤", mention_ids=[gw.bot_id])
        said = gw.wait_said(lambda s: len(s) >= 1, timeout=10)
        report["echo"] = {"sent_id": mid, "said": said}

        # native 接龙 XML
        xml = corpus_xml()
        xid = gw.app_message(ROOM, "alice", xml)
        ev = bot.wait_event(lambda e: e["event"] == "message" and e["args"][0] == xid, 10)
        report["xml"] = {
            "seen": ev is not None,
            "type_int": ev["args"][1] if ev else None,
            "type_name": ev["args"][2] if ev else None,
            "text_equals_raw_xml": (ev["args"][6] == xml) if ev else None,
            "text_head": ev["args"][6][:60] if ev else None,
        }

        # duplicate delivery of the same message id
        gw.clear_said()
        n0 = len(bot.events)
        dup = "dup-msg-1"
        first = gw.say_raw(ROOM, "bob", "2. 香蕉", message_id=dup)
        second = gw.say_raw(ROOM, "bob", "2. 香蕉", message_id=dup)
        time.sleep(0.5)
        report["duplicate"] = {
            "gateway": [first["duplicate"], second["duplicate"]],
            "client_message_events": len([e for e in bot.named("message", n0) if e["args"][0] == dup]),
            "echoes": len(gw.said()),
        }

        # round trips (gateway clock: message event emitted -> bot's messageSendText arrives)
        gw.clear_said()
        rtts: list[float] = []
        walls: list[float] = []
        for i in range(opts.rtt):
            w0 = time.perf_counter()
            r = gw.say_raw(ROOM, "alice", f"rtt {i}")
            s = gw.wait_said(lambda s, i=i: any(x["text"] == f"echo:rtt {i}" for x in s), timeout=10, interval=0.001)
            walls.append((time.perf_counter() - w0) * 1000)
            item = next(x for x in s if x["text"] == f"echo:rtt {i}")
            rtts.append(item["at"] - r["at"])
            gw.clear_said()
        if rtts:
            q = statistics.quantiles(rtts, n=20) if len(rtts) >= 20 else [max(rtts)] * 19
            report["rtt_ms"] = {
                "n": len(rtts),
                "median": round(statistics.median(rtts), 2),
                "p95": round(q[18], 2),
                "min": round(min(rtts), 2),
                "max": round(max(rtts), 2),
                "wall_median_incl_http_polling": round(statistics.median(walls), 2),
            }

        # invitation -> accept -> room-join
        n0 = len(bot.events)
        inv = gw.room_invitation("e2e-room-2@chatroom", "carol", topic="新团购群", members=["dave"])
        joined = bot.wait_event(lambda e: e["event"] == "room-join", 10, n0)
        report["invitation"] = {
            "id": inv,
            "client_events": [e["event"] for e in bot.events[n0:]],
            "room_join": joined["args"] if joined else None,
            "gateway": gw.invitations(),
        }

        # bot added to a room directly
        gw.create_room("e2e-room-3@chatroom", topic="直接拉群", members=["erin"], with_bot=False)
        n0 = len(bot.events)
        gw.room_join("e2e-room-3@chatroom", "erin")
        joined = bot.wait_event(lambda e: e["event"] == "room-join", 10, n0)
        report["room_join"] = joined["args"] if joined else None

        # topic change
        n0 = len(bot.events)
        gw.room_topic(ROOM, "团购测试群(改)", changer_id="alice")
        topic = bot.wait_event(lambda e: e["event"] == "room-topic", 10, n0)
        report["room_topic"] = topic["args"] if topic else None

        # logout, then login again
        n0 = len(bot.events)
        gw.logout("test logout")
        lo = bot.wait_event(lambda e: e["event"] == "logout", 10, n0)
        gw.login()
        li = bot.wait_event(lambda e: e["event"] == "login", 3, n0)
        gw.say(ROOM, "alice", "after relogin")
        time.sleep(0.5)
        report["logout_login"] = {
            "logout_event": lo is not None,
            "login_event_again": li is not None,
            "echo_after_relogin": [x["text"] for x in gw.said()],
        }
        gw.clear_said()

        # SIGKILL the gateway, restart on the same ports, see what the client does
        if not opts.skip_drop:
            n0 = len(bot.events)
            log_mark = Path(bot.log.name).stat().st_size
            t_kill = time.time()
            gw.kill()
            time.sleep(opts.down)
            gw.restart()
            t_up = time.time()
            gw.create_room(ROOM, topic="团购测试群", members=[{"id": "alice", "name": "Alice"}])
            back = None
            deadline = time.monotonic() + opts.reconnect_wait
            while time.monotonic() < deadline and bot.proc.poll() is None:
                if gw.health()["loggedIn"]:
                    back = time.time()
                    break
                time.sleep(0.1)
            echo_after = None
            if back is not None:
                time.sleep(0.5)
                gw.say(ROOM, "alice", "after restart")
                try:
                    echo_after = gw.wait_said(lambda s: len(s) >= 1, timeout=5)[0]["text"]
                except GatewayError:
                    echo_after = None
            with open(bot.log.name, encoding="utf-8") as fh:
                fh.seek(log_mark)
                tail = [ln.rstrip() for ln in fh if " - ERROR - " in ln or "Error" in ln or "restart" in ln]
            report["drop"] = {
                "down_seconds": opts.down,
                "client_reconnected_after_kill_s": round(back - t_kill, 2) if back else None,
                "client_reconnected_after_restart_s": round(back - t_up, 2) if back else None,
                "bot_process_exit_code": bot.proc.poll(),
                "client_events_after_kill": [e["event"] for e in bot.events[n0:]],
                "echo_after_restart": echo_after,
                "client_log_lines": tail[:12],
            }
    finally:
        if bot is not None:
            report["bot_exit"] = bot.stop()
            report["bot_stdout"] = bot.stdout

    # wrong token: a separate client against the same gateway
    t0 = time.time()
    proc = subprocess.run(
        [opts.python, str(HERE / "echo_bot.py")],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **gw.client_env(), "WECHATY_PUPPET_SERVICE_TOKEN": "wrong-token", "WECHATY_LOG": "warn"},
    )
    report["wrong_token"] = {
        "exit_code": proc.returncode,
        "seconds": round(time.time() - t0, 2),
        "stdout": proc.stdout.strip(),
        "stderr_tail": proc.stderr.strip().splitlines()[-3:],
    }
    report["gateway_exit_on_sigterm"] = gw.stop()
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
