"""`tuanbot backend` plus the demo: the demo's orders reach the backend and its workbook holds the same totals."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main

TOKEN = "demo-t0ken"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return bytes(response.read())


def test_the_demos_orders_reach_the_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TUANBOT_BACKEND_TOKEN": TOKEN}
    log = (tmp_path / "backend.console.log").open("wb")
    backend = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "backend", "--port", str(port), "--data-dir", str(tmp_path / "backend")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60  # a real process: its start takes wall time (far more on a busy machine)
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or backend.poll() is not None:
                    raise AssertionError(f"the backend did not come up: {log.name}") from None
                time.sleep(0.1)
        data = str(tmp_path / "bot")
        assert main(["demo", "--data-dir", data]) == 0
        capsys.readouterr()
        monkeypatch.setenv("TUANBOT_BACKEND_TOKEN", TOKEN)
        assert main(["sync", "--demo", "--data-dir", data, "--url", url]) == 0
        assert "0 pending, 0 failed" in capsys.readouterr().out
        orders = json.loads(_get(f"{url}/api/orders?buy=caomei-1126"))["orders"]
        active = sorted((o["participant"], o["items"][0]["qty"]) for o in orders if o["status"] == "active")
        assert active == [("3栋 王阿姨", 3), ("5-1201 李姐", 1), ("6号楼2单元 何姐", 2), ("8栋 小周", 1), ("张姐", 1)]
        assert [o["participant"] for o in orders if o["status"] == "cancelled"] == ["2栋 陈叔"]
        flash = json.loads(_get(f"{url}/api/orders?buy=orange-flash-1126"))["orders"]
        assert sorted((o["participant"], o["status"]) for o in flash) == [
            ("何姐", "active"),
            ("李姐", "cancelled"),
            ("王阿姨", "active"),
        ]
        workbook = load_workbook(io.BytesIO(_get(f"{url}/api/buys/caomei-1126/export.xlsx")))
        totals = [tuple(r[:3]) for r in workbook["汇总"].iter_rows(values_only=True)]
        assert ("草莓", 8, "盒") in totals  # the demo's summary: 合计:草莓8盒
    finally:
        backend.terminate()
        code = backend.wait(timeout=10)
        log.close()
    assert code == 0  # SIGTERM: a clean shutdown
