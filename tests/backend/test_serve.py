"""`tuanbot backend`: refuses to start without a token, serves, and shuts down cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.backend.app import serve
from bot.cli.backend import backend_database_url, main
from tests.backend.conftest import AUTH, TOKEN, order_body
from tests.conftest import REPO


def test_it_refuses_to_start_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TUANBOT_BACKEND_TOKEN", raising=False)
    assert main(["--port", "0"]) == 2
    assert "TUANBOT_BACKEND_TOKEN" in capsys.readouterr().err


def test_it_refuses_a_broken_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("TUANBOT_BACKEND_TOKEN", TOKEN)
    bad = tmp_path / "config.yaml"
    bad.write_text("buys:\n  - id: x\n", encoding="utf-8")
    assert main(["--config", str(bad), "--data-dir", str(tmp_path)]) == 2
    assert "config.yaml" in capsys.readouterr().err


def test_the_database_is_the_flag_then_the_environment_then_backend_db(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TUANBOT_DATABASE_URL", raising=False)
    assert backend_database_url(tmp_path, None) == f"sqlite+aiosqlite:///{tmp_path / 'backend.db'}"
    monkeypatch.setenv("TUANBOT_DATABASE_URL", "postgres://u@h/db")
    assert backend_database_url(tmp_path, None) == "postgresql+asyncpg://u@h/db"
    assert backend_database_url(tmp_path, "sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


async def test_serve_migrates_serves_and_stops(tmp_path: Path) -> None:
    stop, started = asyncio.Event(), asyncio.Event()
    ports: list[int] = []

    def on_started(port: int) -> None:
        ports.append(port)
        started.set()

    url = f"sqlite+aiosqlite:///{tmp_path / 'backend.db'}"
    task = asyncio.create_task(serve("127.0.0.1", 0, database_url=url, token=TOKEN, stop=stop, on_started=on_started))
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait([task, waiting], timeout=15, return_when=asyncio.FIRST_COMPLETED)  # up, or failed to start
    waiting.cancel()
    assert ports, task
    async with aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{ports[0]}"
        async with session.get(f"{base}/healthz") as resp:
            assert resp.status == 200
        async with session.post(
            f"{base}/api/orders", json=order_body("王", ("草莓", 1, "盒")), headers={**AUTH, "Idempotency-Key": "k"}
        ) as resp:
            assert resp.status == 201
    stop.set()
    await asyncio.wait_for(task, 15)
    assert (tmp_path / "backend.db").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_command_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "TUANBOT_BACKEND_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
    env.pop("TUANBOT_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.backend", "--port", str(port), "--data-dir", str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
                    if b" 200 " in conn.recv(200):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the backend did not come up"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    events = [json.loads(line)["event"] for line in (tmp_path / "tuanbot.log.jsonl").read_text("utf-8").splitlines()]
    assert "backend_started" in events
    assert events[-1] == "backend_stopped"
    assert (tmp_path / "backend.db").exists()
