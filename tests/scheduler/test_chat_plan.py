"""A leader's chat changes (#15) reach the scheduler and `tuanbot schedule`: a buy opened early is not announced
twice, a moved cutoff moves its jobs, a buy made in chat is in the plan the operator reads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.harness import BotHarness, Starts, at
from tests.scheduler.conftest import G1, G2, MONDAY, WEEK, meet_rooms, scheduler_of, week_config
from tests.scheduler.test_cli import run
from tests.scheduler.test_runtime import HEADER_G1, HEADER_G2


async def test_a_buy_opened_early_and_a_cutoff_moved_in_chat_move_the_jobs(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=week_config(), start=MONDAY) as bot:
        await meet_rooms(bot)
        sched = scheduler_of(bot)
        await sched.start(paused=True)
        assert sched.scheduler.get_job(f"buy_open:caomei:{G1}") is not None
        bot.clock.advance_to(at("2026-11-30 08:00"))
        await bot.say("张姐", "开团 caomei")  # an hour early: the header now, in both groups, and not again at 09:00
        bot.expect_said([HEADER_G1])
        bot.expect_said([HEADER_G2], G2)
        opened = bot.clock.now()
        spec = sched.specs[f"buy_open:caomei:{G1}"]
        assert spec.trigger.run_date == opened  # type: ignore[attr-defined]  # moved from 09:00 to now
        assert not await sched.fire(spec, opened)  # and its firing is what the command said: not said again
        await bot.say("张姐", "延长截单 周四20:00")
        for group in (G1, G2):
            bot.expect_said(["⏰ 周六丹东草莓团 截单时间改到12月3日(周四) 20:00,还没接龙的邻居抓紧啦~"], group)
        job = sched.scheduler.get_job(f"cutoff:caomei:{G1}")
        assert job.trigger.run_date == at("2026-12-03 20:00")
        assert (await sched.catch_up()).fired == 0  # what the command said is the firing's: said once
        await bot.settle()
        bot.expect_silence()
        await sched.shutdown()


def test_tuanbot_schedule_shows_a_buy_made_in_chat(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TUANBOT_DATABASE_URL", raising=False)
    database = f"sqlite+aiosqlite:///{data_dir / 'tuanbot.db'}"  # where `tuanbot schedule` looks by default

    async def open_in_chat() -> None:
        async with BotHarness(data_dir, config=week_config(), start=MONDAY, database=database) as bot:
            await bot.say("张姐", "开团 周五蓝莓团 蓝莓 29.9元/盒 库存50 周五20:00截单")
            bot.expect_said([Starts("#接龙 周五蓝莓团\n")], G1)

    asyncio.run(open_in_chat())
    capsys.readouterr()  # the bot's own log
    path = tmp_path / "config.yaml"
    path.write_text(WEEK, encoding="utf-8")
    args = ["schedule", "--config", str(path), "--data-dir", str(data_dir), "--from", "2026-12-04T17:00", "--json"]
    assert run(*args, "--next", "2") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["at"], r["kind"], r["job"]) for r in rows] == [
        ("2026-12-04T18:00:00+08:00", "cutoff_reminder", f"cutoff_reminder:chat-1130-1:-2h:{G1}"),
        ("2026-12-04T20:00:00+08:00", "cutoff", f"cutoff:chat-1130-1:{G1}"),
    ]
    assert rows[0]["text"] == "⏰ 周五蓝莓团 还有2小时截单(今晚20:00)"
