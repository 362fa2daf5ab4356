"""The pure text of every scheduled post: what members read, rendered from the config and live values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.config import Config
from bot.notices.posts import Live, nudge_text, post_text, render_template
from bot.parsing.chain import parse_chain
from scheduler.plan import planned_jobs
from tests.harness import at
from tests.scheduler.conftest import G1, G2, week_config

CONFIG = week_config()


def text_of(config: Config, job_id: str, when: str, live: Live | None = None) -> str:
    spec = next(s for s in planned_jobs(config) if s.id == job_id)
    text = post_text(config, spec, at(when), live)
    assert text is not None
    return text


def test_buy_open_is_a_chain_header_members_can_copy() -> None:
    text = text_of(CONFIG, f"buy_open:caomei:{G1}", "2026-11-30 09:00")
    assert text.splitlines() == [
        "#接龙 周六丹东草莓团",
        "草莓 39.9元/盒,限量100盒",
        "满3人成团",
        "截单:12月2日(周三) 20:00",
        "到货:12月5日(周六) 16:00",
        "自提:东门快递柜旁 17:00-20:00",
        "例 3栋 王阿姨 草莓1盒",
    ]
    copied = parse_chain(text + "\n\n1. 3栋 王阿姨 草莓2盒")
    assert copied.header.startswith("#接龙 周六丹东草莓团")
    assert [e.who for e in copied.entries] == ["3栋 王阿姨"]  # the 例 line is an example, not an order


def test_buy_open_without_pickup_and_with_a_ladder_and_the_leaders_example() -> None:
    config = week_config(_ladder_yaml())
    text = text_of(config, f"buy_open:dami:{G2}", "2026-11-30 09:00")
    assert "阶梯价:3人62元,5人55元(人越多越便宜)" in text
    assert "自提" not in text  # group 2 has no pickup configured
    assert text.endswith("例:3号楼502 大米2袋")


def _ladder_yaml() -> str:
    from tests.scheduler.conftest import WEEK

    return WEEK.replace("  - {name: 土鸡蛋", "  - {name: 五常大米, unit: 袋, price: 69}\n  - {name: 土鸡蛋").replace(
        "columns:",
        "  - id: dami\n    title: 五常大米阶梯团\n    groups: all\n    items: [{product: 五常大米}]\n"
        "    opens: 2026-11-30 09:00\n    cutoff: 2026-12-02 21:00\n"
        "    ladder: [{members: 3, price: 62}, {members: 5, price: 55}]\n    example: 例:3号楼502 大米2袋\n"
        "columns:",
    )


def test_cutoff_reminder_says_how_long_is_left_and_where_the_buy_stands() -> None:
    plain = text_of(CONFIG, f"cutoff_reminder:caomei:-2h:{G1}", "2026-12-02 18:00")
    assert plain == "⏰ 周六丹东草莓团 还有2小时截单(今晚20:00)\n还没接龙的邻居抓紧啦~"


def test_arrival_names_the_groups_pickup_place_and_time() -> None:
    assert text_of(CONFIG, f"arrival:caomei:{G1}", "2026-12-05 16:00").splitlines()[:3] == [
        "📦 到货啦!周六丹东草莓团 已到货",
        "自提地点:东门快递柜旁",
        "自提时间:12月5日(周六) 17:00-20:00",
    ]
    assert "留意团长通知" in text_of(CONFIG, f"arrival:caomei:{G2}", "2026-12-05 16:00")


def test_flash_alerts_before_and_at_the_start() -> None:
    before = text_of(CONFIG, f"flash_alert:orange:-10m:{G1}", "2026-12-03 19:50")
    assert before.splitlines() == [
        "⚡ 秒杀预告:砂糖橘 19.9元/箱(原价29.9元),10分钟后开抢",
        "今晚20:00-20:30,限量50箱,接龙下单,先到先得~",
    ]
    start = text_of(CONFIG, f"flash_alert:orange:0:{G1}", "2026-12-03 20:00", Live(flash_left=12))
    assert start.splitlines()[0] == "⚡ 秒杀开抢啦:砂糖橘 19.9元/箱(原价29.9元),还剩12箱"
    assert text_of(CONFIG, f"flash_end:orange:{G1}", "2026-12-03 20:30") == "⏱ 砂糖橘限时秒杀已结束,谢谢大家捧场~"


def test_column_template_variables() -> None:
    text = text_of(CONFIG, f"column:周一食谱日:{G1}", "2026-11-30 10:00", Live(stock={"草莓": Decimal(97)}))
    assert text.splitlines() == [
        "【周一食谱日】11月30日周一,用土鸡蛋(36元/盒)做番茄炒蛋~",
        "本周在团:",
        "· 周六丹东草莓团:草莓 39.9元/盒,12月2日(周三) 20:00截单",
        "草莓还剩97盒",
    ]


def test_buys_inside_a_sentence_stay_on_its_line_and_nothing_open_says_so() -> None:
    template = "早上好!今天在团:{buys},有问题@小团~"
    assert render_template(template, CONFIG, G1, at("2026-12-01 08:30")) == (
        "早上好!今天在团:周六丹东草莓团 草莓39.9元/盒,有问题@小团~"
    )
    assert render_template(template, CONFIG, G1, at("2026-12-04 08:30")) == "早上好!今天在团:暂无在团商品,有问题@小团~"


def test_stock_without_live_values_is_the_configured_one_and_unknown_braces_stay() -> None:
    when = at("2026-12-01 10:00")
    assert render_template("{stock:丹东草莓} {stock:土鸡蛋} {foo} {product:榴莲}", CONFIG, G1, when) == (
        "100盒 充足 {foo} 榴莲"
    )


@given(st.text(alphabet=st.sampled_from(list("{}:buysdateweekdayproductstock草莓 \n例")), max_size=60))
def test_any_template_renders_without_error(template: str) -> None:
    render_template(template, CONFIG, G1, at("2026-12-01 10:00"))


def test_nudge_text_for_forming_and_for_the_next_tier() -> None:
    from bot.domain.buys import group_status

    assert CONFIG.nudges is not None
    caomei = CONFIG.buys[0]
    assert nudge_text(CONFIG.nudges, caomei, group_status(caomei, 2, Decimal("39.9"))) == (
        "仅差1人成团!周六丹东草莓团 快来接龙~"
    )
    ladder = week_config(_ladder_yaml())
    dami = ladder.buys[1]
    assert ladder.nudges is not None
    text = nudge_text(ladder.nudges, dami, group_status(dami, 4, Decimal(69)))
    assert text == "再1人全团降到55元!五常大米阶梯团 快来接龙~"  # a ladder without min_members has nothing to form


def test_a_late_reminder_after_the_cutoff_does_not_pretend_time_is_left() -> None:
    text = text_of(CONFIG, f"cutoff_reminder:caomei:-2h:{G1}", "2026-12-02 18:00")
    spec = next(s for s in planned_jobs(CONFIG) if s.id == f"cutoff_reminder:caomei:-2h:{G1}")
    late = post_text(CONFIG, spec, at("2026-12-02 20:00") + timedelta(minutes=1))
    assert "还有" in text
    assert late == "⏰ 周六丹东草莓团 已截单"
