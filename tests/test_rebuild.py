"""`tuanbot rebuild`: the stored orders against what the stored messages mean — silent when all is well."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from bot.cli import main
from tests.dispatch_faults import OneStoreOutage
from tests.harness import BotHarness, chain

H = "#接龙 周六丹东草莓团"


def test_after_the_demo_there_is_no_difference(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    assert main(["rebuild", "--demo", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out == ""


def test_a_tampered_order_is_reported(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--data-dir", str(data_dir)]) == 0
    with sqlite3.connect(data_dir / "demo.db") as db:
        db.execute(
            "UPDATE order_lines SET qty = 9 WHERE order_id = (SELECT id FROM orders WHERE participant = '5-1201 李姐')"
        )
    capsys.readouterr()
    assert main(["rebuild", "--demo", "--data-dir", str(data_dir)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "+ caomei-1126 阳光花园1号群: 5-1201 李姐 草莓1盒 (active): in the messages ×1, not stored" in out
    assert "- caomei-1126 阳光花园1号群: 5-1201 李姐 草莓9盒 (active): stored ×1, not in the messages" in out


async def test_after_a_store_outage_the_orders_still_match_the_messages(data_dir: Path) -> None:
    from bot.cli.rebuild import rebuild
    from handlers.chain_orders import ChainOrders

    outage = OneStoreOutage(ChainOrders(), fail_times=2)
    async with BotHarness(data_dir, handlers=[outage]) as bot:
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"))
        await bot.say("李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))
        assert outage.failures == 2
        assert len(await bot.orders()) == 2
        progress = "【周六丹东草莓团】已有{}人,还差{}人成团"
        bot.expect_said(  # each confirmed once, though the first was handled three times
            [
                f"✅ 已记录:3栋 王阿姨 草莓2盒\n合计:草莓2盒\n{progress.format(1, 4)}",
                f"✅ 已记录:5-1201 李姐 草莓1盒\n合计:草莓3盒\n{progress.format(2, 3)}",
            ]
        )
        (data_dir / "scratch").mkdir()
        assert await rebuild(bot.config, bot.app.db, scratch=data_dir / "scratch") == []


async def test_rebuild_never_uses_the_live_redis(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli.rebuild import rebuild
    from tests.conftest import _reachable, service_missing

    if not _reachable("127.0.0.1", 6379):
        service_missing("Redis at 127.0.0.1:6379")
    monkeypatch.setenv("TUANBOT_REDIS_URL", "redis://127.0.0.1:6379/15")
    # strict=False: this Redis outlives the test, and its same-text window may hold back a confirmation an earlier
    # run said; what the bot says is tests/test_chain_orders.py's business, the order made here is this test's
    async with BotHarness(data_dir, strict=False) as bot:  # the live bot marks its messages handled in Redis
        # a fresh id: a mark left in this Redis by an earlier run would make the message a duplicate, and then there
        # would be no order for the rebuild to miss (the test passed that way without testing anything)
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒"), msg_id=f"rebuild-{uuid.uuid4().hex}")
        assert await bot.orders() == [("3栋 王阿姨", ["草莓2盒"])]
        (data_dir / "scratch").mkdir()
        assert await rebuild(bot.config, bot.app.db, scratch=data_dir / "scratch") == []
