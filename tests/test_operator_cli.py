"""What an operator meets away from the happy path: a relative SQLite path in the config, `rebuild` and `sync`
pointed at a store that is not there, and a backend that refuses, is down or does not answer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli import main
from bot.config import parse_config_text
from storage.db import database_url
from tests.harness import CONFIG, BotHarness, chain

H = "#接龙 周六丹东草莓团"
RELATIVE = CONFIG + "\ndatabase: sqlite+aiosqlite:///tuanbot.db\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_relative_sqlite_path_lives_in_the_data_dir_wherever_a_command_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data, elsewhere, config_file = tmp_path / "data", tmp_path / "elsewhere", tmp_path / "config.yaml"
    data.mkdir()
    elsewhere.mkdir()
    config_file.write_text(RELATIVE, encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("TUANBOT_DATABASE_URL", raising=False)
    config = parse_config_text(RELATIVE)
    url = database_url(data, config.database)  # what App does with the config's `database:`
    assert url == f"sqlite+aiosqlite:///{data / 'tuanbot.db'}"
    async with BotHarness(data, config=config, database=url) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        bot.expect_said(["✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n【周六丹东草莓团】已有1人,还差4人成团"])
    assert (data / "tuanbot.db").exists()
    assert not (elsewhere / "tuanbot.db").exists()
    capsys.readouterr()
    # From yet another directory, rebuild finds the bot's store (and its message) through the data dir.
    monkeypatch.chdir(tmp_path)
    code = await asyncio.to_thread(main, ["rebuild", "--config", str(config_file), "--data-dir", str(data)])
    assert (code, capsys.readouterr().out) == (0, "")
    assert not (tmp_path / "tuanbot.db").exists()


@pytest.mark.parametrize("command", ["rebuild", "sync"])
def test_rebuild_and_sync_on_a_missing_store_say_so_and_create_nothing(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUANBOT_BACKEND_TOKEN", "t" * 24)
    monkeypatch.delenv("TUANBOT_DATABASE_URL", raising=False)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(RELATIVE, encoding="utf-8")
    empty = tmp_path / "never-ran"
    args = [command, "--config", str(config_file), "--data-dir", str(empty)]
    assert main(args + (["--url", "http://127.0.0.1:9"] if command == "sync" else [])) == 2
    err = capsys.readouterr().err
    assert f"tuanbot {command}: no database at {empty / 'tuanbot.db'}" in err
    assert not (empty / "tuanbot.db").exists()
    (empty / "tuanbot.db").parent.mkdir(parents=True, exist_ok=True)
    (empty / "tuanbot.db").touch()  # an empty file (a bad copy, a full disk) is no store either
    assert main(args + (["--url", "http://127.0.0.1:9"] if command == "sync" else [])) == 2
    assert f"the database file {empty / 'tuanbot.db'} is empty" in capsys.readouterr().err


@pytest.fixture
async def refusing_backend() -> AsyncIterator[str]:
    """A backend that answers every order with 401 (a rotated token), and one route that never answers."""

    async def unauthorized(_request: web.Request) -> web.Response:
        return web.json_response({"error": "bad token"}, status=401)

    async def hang(_request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/401/api/orders", unauthorized)
    app.router.add_post("/slow/api/orders", hang)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_sync_says_why_nothing_was_sent(
    refusing_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "bot")
    assert await asyncio.to_thread(main, ["demo", "--data-dir", data]) == 0
    capsys.readouterr()
    monkeypatch.setenv("TUANBOT_BACKEND_TOKEN", "t" * 24)

    async def sync(url: str, *extra: str) -> str:
        code = await asyncio.to_thread(main, ["sync", "--demo", "--data-dir", data, "--url", url, *extra])
        assert code == 1  # the changes stay pending: nothing is lost
        return capsys.readouterr().err.strip().splitlines()[-1]

    assert await sync(f"{refusing_backend}/401") == (
        "tuanbot sync: not sent: the backend refused the token (HTTP 401): check TUANBOT_BACKEND_TOKEN"
    )
    down = f"http://127.0.0.1:{_free_port()}"
    assert await sync(down) == (
        f"tuanbot sync: not sent: could not connect to {down} (connection refused): is the backend running at that "
        "address?"
    )
    assert await sync(f"{refusing_backend}/slow", "--timeout", "0.3") == (
        f"tuanbot sync: not sent: {refusing_backend}/slow did not answer in time (timeout): is it overloaded or "
        "unreachable?"
    )


async def test_a_group_configured_by_room_id_talks_in_the_simulator_too(tmp_path: Path) -> None:
    import io

    from bot.cli.ask import run_ask

    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        CONFIG.replace("  - name: 阳光花园1号群\n", "  - name: 阳光花园1号群\n    room_id: '20998877@chatroom'\n"),
        encoding="utf-8",
    )
    out = io.StringIO()
    code = await run_ask(config_file, ["几点自提"], data_dir=tmp_path / "d", at="2026-11-26 10:00", out=out)
    assert code == 0
    assert out.getvalue().strip() == "自提时间17:00-20:00,自提点:东门快递柜旁"
