"""A bot process SIGKILLed at the two moments no outside timing hits reliably (#17), then started again:
- between storing a message and handling it: the start handles it, once, and `tuanbot rebuild` agrees;
- right after a digest reached the gateway, before its row was marked sent: the start repeats nothing.
The process is `tests/faults/bot_run.py` (the real lifecycle; a channel of two files), killed by `TUANBOT_KILL_AT`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.e2e.bot_process import e2e_config
from tests.harness import chain

GROUP, ROOM = "阳光花园1号群", "room-1"
H = "#接龙 周六丹东草莓团"


class Bot:
    """One data dir, and `tuanbot run`-like processes on it, one after another."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir()
        self.config = workdir / "config.yaml"
        self.config.write_text(e2e_config([{"name": GROUP, "room_id": ROOM}]), encoding="utf-8")
        self.outbox = workdir / "said.jsonl"
        self.outbox.touch()
        self.runs = 0

    def run(self, *messages: tuple[str, str], kill_at: str | None = None) -> int:
        self.runs += 1
        inbox = self.workdir / f"inbox{self.runs}.jsonl"
        inbox.write_text(
            "".join(
                json.dumps(
                    {
                        "msg_id": f"m{self.runs}-{i}",
                        "room_id": ROOM,
                        "room_topic": GROUP,
                        "sender_id": f"wx_{who}",
                        "sender_name": who,
                        "text": text,
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for i, (who, text) in enumerate(messages)
            ),
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if k not in {"TUANBOT_DATABASE_URL", "TUANBOT_DATA"}}
        env.pop("TUANBOT_KILL_AT", None)
        if kill_at:
            env["TUANBOT_KILL_AT"] = kill_at
        args = [str(self.config), str(self.data), str(inbox), str(self.outbox)]
        done = subprocess.run(
            [sys.executable, "-m", "tests.faults.bot_run", *args], cwd=REPO, env=env, capture_output=True, timeout=120
        )
        assert done.returncode in (0, -signal.SIGKILL), done.stderr.decode()[-3000:]
        return done.returncode

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data / "tuanbot.db") as db:
            return db.execute(sql).fetchall()

    def orders(self) -> list[tuple[object, ...]]:
        return self.query(
            "SELECT o.participant, o.status, l.product, l.qty FROM orders o JOIN order_lines l ON l.order_id = o.id"
            " ORDER BY o.id"
        )

    def said(self) -> list[str]:
        return [json.loads(line)["text"] for line in self.outbox.read_text(encoding="utf-8").splitlines()]

    def rebuild(self) -> subprocess.CompletedProcess[bytes]:
        env = {k: v for k, v in os.environ.items() if k not in {"TUANBOT_DATABASE_URL", "TUANBOT_DATA"}}
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "rebuild", "--config", str(self.config), "--data-dir", str(self.data)],
            cwd=REPO,
            env=env,
            capture_output=True,
            timeout=120,
        )


def test_a_message_stored_but_not_handled_at_a_kill_is_handled_once_at_the_next_start(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert bot.run(("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))) == 0
    # 李姐's message is in the journal when the process dies: not handled, and the gateway never brings it again
    assert bot.run(("李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒")), kill_at="stored") == -signal.SIGKILL
    assert bot.query("SELECT msg_id FROM messages WHERE handled_at IS NULL") == [("m2-0",)]
    assert [o[0] for o in bot.orders()] == ["3栋 王阿姨"]

    assert bot.run() == 0  # the next start, with nothing new from the gateway
    assert bot.orders() == [("3栋 王阿姨", "active", "草莓", 2), ("5-1201 李姐", "active", "草莓", 1)]
    assert bot.query("SELECT count(*) FROM messages WHERE handled_at IS NULL") == [(0,)]
    assert bot.run(("何姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "6号楼 何姐 草莓1盒"))) == 0
    assert [o[0] for o in bot.orders()] == ["3栋 王阿姨", "5-1201 李姐", "6号楼 何姐"]  # exactly once each
    checked = bot.rebuild()
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    assert checked.stdout.decode().strip() == ""


def test_a_kill_right_after_a_digest_reached_the_gateway_repeats_nothing(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    assert bot.run(("王阿姨", chain(H, "3栋 王阿姨 草莓2盒")), kill_at="said") == -signal.SIGKILL
    said = bot.said()
    assert len(said) == 1
    assert "3栋 王阿姨" in said[0]
    assert bot.query("SELECT status FROM outbound WHERE status = 'sent'") == []  # said, never marked sent

    assert bot.run() == 0  # the start finds the row it could not mark: said already, nothing left to say
    assert bot.said() == said
    assert bot.query("SELECT status, reason FROM outbound ORDER BY id") == [
        ("suppressed", "nothing_to_say"),  # the interrupted digest, rendered again: nothing the group was not told
        ("suppressed", "nothing_to_say"),  # its follow-up
    ]
    assert bot.run(("李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))) == 0
    assert len(bot.said()) == 2
    assert bot.said()[1].startswith("✅ 已记录:5-1201 李姐 草莓1盒\n")  # only what the group was not told
    assert "王阿姨" not in bot.said()[1]
