"""The scheduler on a controlled clock: jobs registered right, each firing posted once, restarts and reloads."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from bot.config import load_config
from bot.lifecycle import Lifecycle
from bot.notices.flash import announce_sold_out
from scheduler.plan import planned_jobs
from scheduler.service import GRACE, BotScheduler, firing_key
from storage.models import GroupBuy, OutboundMessage
from tests.harness import BotHarness, at, chain
from tests.scheduler.conftest import G1, G2, MONDAY, NEXT_MONDAY, WEEK, firings, meet_rooms, scheduler_of, week_config

H = "#接龙 周六丹东草莓团"
HEADER_G1 = (
    "#接龙 周六丹东草莓团\n草莓 39.9元/盒,限量100盒\n满3人成团\n截单:12月2日(周三) 20:00\n到货:12月5日(周六) 16:00\n"
    "自提:东门快递柜旁 17:00-20:00\n例 3栋 王阿姨 草莓1盒"
)
HEADER_G2 = (
    "#接龙 周六丹东草莓团\n草莓 39.9元/盒,限量100盒\n满3人成团\n截单:12月2日(周三) 20:00\n到货:12月5日(周六) 16:00\n"
    "例 3栋 王阿姨 草莓1盒"
)
TWO_ORDERS = "\n".join(
    [
        "✅ 已记录:3栋 王阿姨 草莓2盒;5-1201 李姐 草莓1盒",
        "合计:草莓3盒(草莓还剩97盒)",
        "【周六丹东草莓团】已有2人,还差1人成团",
    ]
)
NUDGE = "仅差1人成团!周六丹东草莓团 快来接龙~"
SALE_OPEN = "⚡ 秒杀开抢啦:砂糖橘 19.9元/箱(原价29.9元),还剩{}箱\n{}结束,接龙下单,先到先得~"


def column(day: str, stock: int, cutoff: str = "20:00") -> str:
    return (
        f"【周一食谱日】{day},用土鸡蛋(36元/盒)做番茄炒蛋~\n本周在团:\n"
        f"· 周六丹东草莓团:草莓 39.9元/盒,12月2日(周三) {cutoff}截单\n草莓还剩{stock}盒"
    )


def reminder(left: str, when: str, status: str) -> str:
    return f"⏰ 周六丹东草莓团 还有{left}截单({when})\n{status}\n还没接龙的邻居抓紧啦~"


async def scheduled_posts(bot: BotHarness) -> list[tuple[str, str | None, str, str]]:
    """(kind, group, status, first line) of every scheduled post queued, oldest first."""
    async with bot.app.db.sessions() as session:
        rows = await session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.kind.not_in(("digest", "reply", "summary", "nudge")))
            .order_by(OutboundMessage.id)
        )
        return [(r.kind, r.group_name, r.status, r.text.split("\n", 1)[0]) for r in rows]


# --- registration ------------------------------------------------------------------------------------------------


async def test_apply_registers_every_future_job_with_its_id_trigger_zone_grace_and_coalesce(
    week_bot: BotHarness, sched: BotScheduler
) -> None:
    specs = {s.id: s for s in planned_jobs(week_bot.config)}
    jobs = {job.id: job for job in sched.scheduler.get_jobs()}
    assert set(jobs) == set(specs)  # it is Monday 00:00: everything is still ahead
    assert str(sched.scheduler.timezone) == "Asia/Shanghai"
    for job_id, job in jobs.items():
        spec = specs[job_id]
        assert repr(job.trigger) == repr(spec.trigger)
        zone = job.trigger.timezone if isinstance(job.trigger, CronTrigger) else job.trigger.run_date.tzinfo
        assert str(zone) == "Asia/Shanghai"
        assert job.misfire_grace_time == int(GRACE[spec.kind].total_seconds())
        assert job.coalesce is True
        assert job.max_instances == 1
    column = jobs[f"column:周一食谱日:{G1}"]
    assert isinstance(column.trigger, CronTrigger)
    assert column.next_run_time == at("2026-11-30 10:00")


async def test_apply_swaps_jobs_and_skips_one_offs_already_past(week_bot: BotHarness, sched: BotScheduler) -> None:
    week_bot.clock.advance_to(at("2026-12-02 19:00"))  # after the -2h reminder, before the cutoff
    edited = week_config(WEEK.replace("  - name: 周一食谱日", "  - name: 周二早安").replace("周一 10:00", "周二 08:30"))
    sched.apply(edited)
    ids = {job.id for job in sched.scheduler.get_jobs()}
    assert f"column:周一食谱日:{G1}" not in ids
    assert f"column:周二早安:{G1}" in ids
    assert f"cutoff:caomei:{G1}" in ids
    assert f"buy_open:caomei:{G1}" not in ids
    assert f"cutoff_reminder:caomei:-2h:{G1}" not in ids


async def test_the_job_apscheduler_runs_fires_the_firing_it_is_late_for(
    week_bot: BotHarness, sched: BotScheduler
) -> None:
    job = sched.scheduler.get_job(f"buy_open:caomei:{G1}")
    week_bot.clock.advance_to(at("2026-11-30 09:00") + timedelta(seconds=40))
    await job.func(*job.args)
    await week_bot.settle()
    week_bot.expect_said([HEADER_G1], G1)
    async with week_bot.app.db.sessions() as session:
        keys = list(await session.scalars(select(OutboundMessage.key).where(OutboundMessage.kind == "buy_open")))
    assert keys == [f"buy_open:caomei:{G1}@2026-11-30T09:00:00+08:00"]


# --- a realistic week ----------------------------------------------------------------------------------------------


async def test_a_realistic_week_fires_exactly_the_expected_posts(week_bot: BotHarness, sched: BotScheduler) -> None:
    bot = week_bot
    members = [
        (at("2026-11-30 11:00"), G1, "王阿姨", chain(H, "3栋 王阿姨 草莓2盒")),
        (at("2026-11-30 11:05"), G1, "李姐", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒")),
        (at("2026-12-01 12:00"), G2, "陈叔", chain(H, "2栋 陈叔 草莓3盒")),
        (at("2026-12-02 20:10"), G1, "刘妈妈", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒", "刘妈妈 草莓1盒")),
    ]
    for when, spec in firings(bot.config, MONDAY, NEXT_MONDAY):
        while members and members[0][0] <= when:
            moment, group, who, text = members.pop(0)
            bot.clock.advance_to(moment)
            await bot.say(who, text, group)
        bot.clock.advance_to(when)
        assert await sched.fire(spec, when)
        await bot.settle()
    for moment, group, who, text in members:
        bot.clock.advance_to(moment)
        await bot.say(who, text, group)

    assert await scheduled_posts(bot) == [
        ("buy_open", G1, "sent", "#接龙 周六丹东草莓团"),
        ("buy_open", G2, "sent", "#接龙 周六丹东草莓团"),
        ("column", G1, "sent", "【周一食谱日】11月30日周一,用土鸡蛋(36元/盒)做番茄炒蛋~"),
        ("column", G2, "sent", "【周一食谱日】11月30日周一,用土鸡蛋(36元/盒)做番茄炒蛋~"),
        ("reminder", G1, "sent", "⏰ 周六丹东草莓团 还有2小时截单(今晚20:00)"),
        ("reminder", G2, "sent", "⏰ 周六丹东草莓团 还有2小时截单(今晚20:00)"),
        ("cutoff", G1, "sent", "【截单】周六丹东草莓团 已截单,之后的接龙不再记录"),
        ("cutoff", G2, "sent", "【截单】周六丹东草莓团 已截单,之后的接龙不再记录"),
        ("flash_alert", G1, "sent", "⚡ 秒杀预告:砂糖橘 19.9元/箱(原价29.9元),10分钟后开抢"),
        ("flash_alert", G1, "sent", "⚡ 秒杀开抢啦:砂糖橘 19.9元/箱(原价29.9元),还剩50箱"),
        ("flash_end", G1, "sent", "⏱ 砂糖橘限时秒杀已结束,谢谢大家捧场~"),
        ("arrival", G1, "sent", "📦 到货啦!周六丹东草莓团 已到货"),
        ("arrival", G2, "sent", "📦 到货啦!周六丹东草莓团 已到货"),
    ]
    formed = reminder("2小时", "今晚20:00", "已有3人,已成团")  # 王阿姨 and 李姐 in 1, 陈叔 in 2: the whole buy counts
    closed = (
        "【截单】周六丹东草莓团 已截单,之后的接龙不再记录\n【汇总】周六丹东草莓团({})\n合计:草莓3盒,共119.70元\n{}\n"
        + "已有3人,已成团"
    )
    bot.expect_said(
        [
            HEADER_G1,
            HEADER_G2,
            column("11月30日周一", 100),
            column("11月30日周一", 100),
            NUDGE,
            TWO_ORDERS,
            formed,
            "✅ 已记录:2栋 陈叔 草莓3盒\n合计:草莓6盒(草莓还剩94盒)\n【周六丹东草莓团】已有3人,已成团",
            formed,
            # each group its own lines
            closed.format(G1, "1. 3栋 王阿姨 草莓2盒 79.80元\n2. 5-1201 李姐 草莓1盒 39.90元"),
            closed.format(G2, "1. 2栋 陈叔 草莓3盒 119.70元"),
            "抱歉,周六丹东草莓团已于12月02日 20:00截单,刘妈妈的接龙这次没能记上,下次开团早点来哦~",
            "⚡ 秒杀预告:砂糖橘 19.9元/箱(原价29.9元),10分钟后开抢\n今晚20:00-20:30,限量50箱,接龙下单,先到先得~",
            SALE_OPEN.format(50, "20:30"),
            "⏱ 砂糖橘限时秒杀已结束,谢谢大家捧场~",
            "📦 到货啦!周六丹东草莓团 已到货\n自提地点:东门快递柜旁\n自提时间:12月5日(周六) 17:00-20:00\n"
            "请报接龙时的名字取货,有问题@团长~",
            "📦 到货啦!周六丹东草莓团 已到货\n取货地点和时间请留意团长通知\n请报接龙时的名字取货,有问题@团长~",
        ],
        group=None,  # both groups, in the order they were said
    )
    async with bot.app.db.sessions() as session:
        closed = await session.scalar(select(GroupBuy.closed_at).where(GroupBuy.id == "caomei"))
    assert closed == at("2026-12-02 20:00")


async def test_column_stock_is_live(week_bot: BotHarness, sched: BotScheduler) -> None:
    week_bot.clock.advance_to(at("2026-11-30 09:30"))
    await week_bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))
    spec = sched.specs[f"column:周一食谱日:{G2}"]
    week_bot.clock.advance_to(at("2026-11-30 10:00"))
    assert await sched.fire(spec, at("2026-11-30 10:00"))
    await week_bot.settle()
    week_bot.expect_said([column("11月30日周一", 97)], G2)
    week_bot.expect_said(
        [
            NUDGE,
            TWO_ORDERS,
        ],
        G1,
    )


# --- once ----------------------------------------------------------------------------------------------------------


async def test_a_firing_posts_once_however_often_it_is_fired(week_bot: BotHarness, sched: BotScheduler) -> None:
    spec = sched.specs[f"buy_open:caomei:{G1}"]
    when = at("2026-11-30 09:00")
    week_bot.clock.advance_to(when)
    results = [await sched.fire(spec, when), await sched.fire(spec, when)]
    again = BotScheduler(week_bot.app.services)  # a restarted process
    results += await asyncio.gather(again.fire(spec, when), again.fire(spec, when.astimezone(week_bot.config.tz)))
    await week_bot.settle()
    assert results == [True, False, False, False]
    week_bot.expect_said([HEADER_G1], group=None)


async def test_a_room_never_seen_is_skipped_and_logged(data_dir: Path) -> None:
    async with BotHarness(data_dir, config=week_config(), start=MONDAY) as bot:
        await meet_rooms(bot, G1)
        sched = scheduler_of(bot)
        spec = next(s for s in planned_jobs(bot.config) if s.id == f"buy_open:caomei:{G2}")
        assert not await sched.fire(spec, at("2026-11-30 09:00"))
        assert [e["group"] for e in bot.logged("post_skipped_no_room")] == [G2]
        bot.expect_silence()


# --- quiet hours ---------------------------------------------------------------------------------------------------

QUIET = (
    WEEK.replace("cutoff: 2026-12-02 20:00", "cutoff: 2026-12-02 09:00")
    .replace("cutoff: [-2h]", "cutoff: [-2h, -30m]")
    .replace("at: 周一 10:00", "at: 周二 23:00")
    .replace("start: 2026-12-03 20:00", "start: 2026-12-01 23:00")
    .replace("end: 2026-12-03 20:30", "end: 2026-12-02 08:10")
)


async def test_nothing_but_columns_and_alerts_goes_out_in_quiet_hours(data_dir: Path) -> None:
    from bot.notices.nudges import maybe_nudge

    config = week_config(QUIET)
    async with BotHarness(data_dir, config=config, start=at("2026-12-01 21:00")) as bot:
        await meet_rooms(bot)
        await bot.say("王阿姨", chain(H, "3栋 王阿姨 草莓2盒", "5-1201 李姐 草莓1盒"))
        sched = scheduler_of(bot)
        night = firings(config, at("2026-12-01 22:00"), at("2026-12-02 08:00"))
        assert {s.kind for _, s in night} == {"column", "flash_alert", "cutoff_reminder"}
        for when, spec in night:
            bot.clock.advance_to(when)
            await sched.fire(spec, when)
            await bot.settle()
            assert not await maybe_nudge(bot.app.services, config.buys[0], G1)  # 1 short, but it is night
        posts = await scheduled_posts(bot)
        assert {(k, s) for k, _, s, _ in posts} == {
            ("column", "sent"),
            ("flash_alert", "sent"),
            ("reminder", "suppressed"),  # the 07:00 reminder
        }
        bot.clock.advance_to(at("2026-12-02 08:30"))
        morning = next(s for s in planned_jobs(config) if s.id == f"cutoff_reminder:caomei:-30m:{G1}")
        await sched.fire(morning, at("2026-12-02 08:30"))
        await bot.settle()
        assert await maybe_nudge(bot.app.services, config.buys[0], G1)
        await bot.settle()
        bot.expect_said(
            [
                NUDGE,  # 21:00, before the quiet hours
                "⚡ 秒杀预告:砂糖橘 19.9元/箱(原价29.9元),10分钟后开抢\n今晚23:00-08:10,限量50箱,接龙下单,先到先得~",
                TWO_ORDERS,
                column("12月1日周二", 97, cutoff="09:00"),  # both groups
                column("12月1日周二", 97, cutoff="09:00"),
                SALE_OPEN.format(50, "08:10"),
                # the 07:00 reminder was suppressed; the 08:30 one and the morning's nudge go out
                reminder("30分钟", "今天09:00", "已有2人,还差1人成团"),
                NUDGE,
            ],
            group=None,
        )


# --- flash sale ----------------------------------------------------------------------------------------------------


async def test_a_flash_sale_alerts_at_its_offsets_and_announces_sold_out_once(
    week_bot: BotHarness, sched: BotScheduler
) -> None:
    sale = [(t, s) for t, s in firings(week_bot.config, MONDAY, NEXT_MONDAY) if s.ref == "orange"]
    assert [(t, s.kind) for t, s in sale] == [
        (at("2026-12-03 19:50"), "flash_alert"),
        (at("2026-12-03 20:00"), "flash_alert"),
        (at("2026-12-03 20:30"), "flash_end"),
    ]
    for when, spec in sale[:2]:
        week_bot.clock.advance_to(when)
        await sched.fire(spec, when)
        await week_bot.settle()
    week_bot.clock.advance(300)
    await announce_sold_out(week_bot.app.services, "orange")
    await announce_sold_out(week_bot.app.services, "orange")  # the store may report 0 twice; a second process too
    await week_bot.settle()
    week_bot.expect_said(
        [
            "⚡ 秒杀预告:砂糖橘 19.9元/箱(原价29.9元),10分钟后开抢\n今晚20:00-20:30,限量50箱,接龙下单,先到先得~",
            SALE_OPEN.format(50, "20:30"),
            "🈵 砂糖橘秒杀已抢光!没抢到的邻居别急,下次早点来~",  # once
        ],
        G1,
    )
    week_bot.expect_silence(G2)  # the sale is in group 1 only


# --- restart -------------------------------------------------------------------------------------------------------


async def test_a_restart_sends_firings_within_grace_once_and_logs_older_ones_as_missed(
    week_bot: BotHarness, sched: BotScheduler
) -> None:
    bot = week_bot
    for when, spec in firings(bot.config, MONDAY, at("2026-11-30 09:30")):  # the buy opens; then the process dies
        bot.clock.advance_to(when)
        await sched.fire(spec, when)
    await sched.shutdown()
    await bot.settle()

    bot.clock.advance_to(at("2026-12-02 18:04"))  # back up: the column (Mon 10:00) is long gone, the reminder not
    restarted = scheduler_of(bot)
    mark = bot.log_mark()
    await restarted.start(paused=True)
    await bot.settle()
    missed = sorted(e["job"] for e in bot.logged("job_missed", since=mark))
    assert missed == [f"column:周一食谱日:{G1}", f"column:周一食谱日:{G2}"]
    assert [(k, g) for k, g, _, _ in await scheduled_posts(bot)] == [
        ("buy_open", G1),
        ("buy_open", G2),
        ("reminder", G1),
        ("reminder", G2),
    ]
    behind = reminder("2小时", "今晚20:00", "已有0人,还差3人成团")
    bot.expect_said([HEADER_G1, HEADER_G2, behind, behind], group=None)
    await restarted.shutdown()

    bot.clock.advance(60)  # and once more: nothing is sent twice, nothing is reported twice
    third = scheduler_of(bot)
    mark = bot.log_mark()
    assert (await third.catch_up()).fired == 0
    assert bot.logged("job_missed", "job_fired", since=mark) == []
    bot.expect_silence()


# --- reload --------------------------------------------------------------------------------------------------------


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_bad_reload_keeps_the_old_plan_and_says_where(data_dir: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.yaml", WEEK)
    async with BotHarness(data_dir, config=load_config(path), start=MONDAY) as bot:
        sched = scheduler_of(bot)
        await sched.start(paused=True)
        life = Lifecycle(bot.app, scheduler=sched)
        before = {job.id for job in sched.scheduler.get_jobs()}
        write_config(path, WEEK.replace("cutoff: 2026-12-02 20:00", "cutoff: 2026-12-02 25:00"))
        assert not await life.reload_from(path)
        failed = bot.logged("config_reload_failed")
        assert len(failed) == 1
        line = WEEK.splitlines().index("    cutoff: 2026-12-02 20:00") + 1
        assert failed[0]["problems"][0].startswith(f"{path}:{line}: buys[0].cutoff: ")
        assert {job.id for job in sched.scheduler.get_jobs()} == before
        assert bot.app.services.config.buys[0].cutoff == at("2026-12-02 20:00")
        await sched.shutdown()


async def test_a_good_reload_swaps_the_jobs_and_what_the_bot_knows(data_dir: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.yaml", WEEK)
    async with BotHarness(data_dir, config=load_config(path), start=MONDAY) as bot:
        await meet_rooms(bot)
        sched = scheduler_of(bot)
        await sched.start(paused=True)
        life = Lifecycle(bot.app, scheduler=sched)
        edited = WEEK.replace("cutoff: 2026-12-02 20:00", "cutoff: 2026-12-03 20:00").replace(
            'quiet_hours: "22:00-08:00"', 'quiet_hours: "21:00-08:00"'
        )
        write_config(path, edited)
        assert await life.reload_from(path)
        services = bot.app.services
        assert services.config.buys[0].cutoff == at("2026-12-03 20:00")
        assert services.sender.in_quiet_hours(at("2026-12-01 21:30"))
        job = sched.scheduler.get_job(f"cutoff:caomei:{G1}")
        assert job.trigger.run_date == at("2026-12-03 20:00")
        async with services.db.sessions() as session:
            assert (await session.get(GroupBuy, "caomei")).cutoff == at("2026-12-03 20:00")  # type: ignore[union-attr]
        await sched.shutdown()


async def test_the_file_watch_reloads_a_changed_config(data_dir: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.yaml", WEEK)
    async with BotHarness(data_dir, config=load_config(path), start=MONDAY) as bot:
        sched = scheduler_of(bot)
        await sched.start(paused=True)
        life = Lifecycle(bot.app, scheduler=sched)  # its watch task waits on real time: drive its step by hand
        assert not await life.check_file()
        write_config(path, WEEK.replace("at: 周一 10:00", "at: 周一 11:00"))
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert await life.check_file()
        assert sched.scheduler.get_job(f"column:周一食谱日:{G1}").next_run_time == at("2026-11-30 11:00")
        assert not await life.check_file()  # unchanged since
        await sched.shutdown()


def test_firing_keys_are_the_job_and_its_time_in_the_configs_zone() -> None:
    config = week_config()
    spec = next(s for s in planned_jobs(config) if s.kind == "cutoff")
    assert firing_key(spec, at("2026-12-02 20:00")) == f"cutoff:caomei:{G1}@2026-12-02T20:00:00+08:00"


async def test_sighup_reloads_the_config_file(data_dir: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.yaml", WEEK)
    async with BotHarness(data_dir, config=load_config(path), start=MONDAY) as bot:
        sched = scheduler_of(bot)
        await sched.start(paused=True)
        life = Lifecycle(bot.app, scheduler=sched)
        life.install_signals()
        write_config(path, WEEK.replace("at: 周一 10:00", "at: 周一 11:30"))
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):  # the loop reads the signal on its next turn; no real waiting
            await asyncio.sleep(0)
            reloads = [t for t in life._background if t.get_name() == "reload"]
            if reloads:
                break
        await asyncio.gather(*reloads)
        assert sched.scheduler.get_job(f"column:周一食谱日:{G1}").next_run_time == at("2026-11-30 11:30")
        life.remove_signals()
        await sched.shutdown()


async def test_flash_alerts_show_the_stock_left_on_the_stores_counter(
    week_bot: BotHarness, sched: BotScheduler
) -> None:
    from storage.stock import flash_key

    services = week_bot.app.services
    async with services.db.transaction() as session:
        assert await services.stock.take(session, flash_key("orange"), 8) == 42
    when = at("2026-12-03 20:00")
    week_bot.clock.advance_to(when)
    assert await sched.fire(sched.specs[f"flash_alert:orange:0:{G1}"], when)
    await week_bot.settle()
    week_bot.expect_said([SALE_OPEN.format(42, "20:30")], group=None)


async def test_a_reload_that_adds_a_buy_opened_a_minute_ago_still_posts_its_header(
    data_dir: Path, tmp_path: Path
) -> None:
    path = write_config(tmp_path / "config.yaml", WEEK)
    async with BotHarness(data_dir, config=load_config(path), start=MONDAY) as bot:
        await meet_rooms(bot)
        sched = scheduler_of(bot)
        await sched.start(paused=True)
        life = Lifecycle(bot.app, scheduler=sched)
        opened = (bot.clock.now() - timedelta(minutes=1)).astimezone(bot.config.tz).strftime("%Y-%m-%d %H:%M")
        added = (
            "\n  - id: jidan\n    title: 土鸡蛋补货团\n    groups: [阳光花园1号群]\n"
            f"    items: [{{product: 土鸡蛋}}]\n    opens: {opened}\n    cutoff: 2026-12-04 20:00\n"
        )
        write_config(path, WEEK.replace("\ncolumns:", added + "columns:", 1))
        assert await life.reload_from(path)
        await bot.settle()
        bot.expect_said(
            [
                "#接龙 土鸡蛋补货团\n土鸡蛋 36元/盒\n截单:12月4日(周五) 20:00\n自提:东门快递柜旁 17:00-20:00\n"
                "例 3栋 王阿姨 土鸡蛋1盒"
            ],
            group=None,
        )
        await sched.shutdown()
