"""Money rules: the price in force (item, ladder tier reached, flash sale), rounding to the 分, exact decimals."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from bot.config import parse_config_text
from bot.domain.export import export_xlsx
from bot.domain.money import Amount, amount_text, buy_prices, fmt_money, ladder_price, sale_prices, to_cents, total
from bot.domain.summary import ItemQty, format_summary, load_flash_views, sale_buy, summarize
from tests.conftest import CONTRACT
from tests.harness import CONFIG as HARNESS_CONFIG
from tests.harness import BotHarness, at, with_flash_sale

CONFIG = parse_config_text(CONTRACT.read_text(encoding="utf-8"), base_dir=CONTRACT.parent)
CAOMEI = CONFIG.buy("caomei-1128")
DAMI = CONFIG.buy("dami-1201")


def items(*spec: tuple[str, str, str | None]) -> list[ItemQty]:
    return [ItemQty(p, Decimal(q), u) for p, q, u in spec]


def test_an_item_costs_its_buy_price_rounded_to_the_fen() -> None:
    assert CAOMEI is not None
    prices = buy_prices(CONFIG, CAOMEI, 1)
    assert prices.amount(items(("草莓", "2", "盒"))) == Amount(Decimal("79.80"))
    # 1.5 × 39.9 = 59.85 exactly; 0.333 × 39.9 = 13.2867 → 13.29 (half-up, per item)
    assert prices.amount(items(("草莓", "1.5", "盒"))).value == Decimal("59.85")
    assert prices.item_amount("草莓", Decimal("0.333"), None) == Decimal("13.29")
    assert prices.price_of("丹东草莓") == Decimal("39.9")  # an alias has the product's price


def test_an_item_outside_the_buy_or_in_another_unit_is_unpriced() -> None:
    assert CAOMEI is not None
    got = buy_prices(CONFIG, CAOMEI, 1).amount(items(("草莓", "1", "盒"), ("苹果", "2", "个"), ("草莓", "2", "斤")))
    assert got == Amount(Decimal("39.90"), ("苹果", "草莓(斤)"))
    assert not got.complete


def test_a_ladder_prices_every_member_at_the_tier_reached() -> None:
    assert DAMI is not None
    assert [ladder_price(DAMI, n) for n in (1, 2, 3, 4, 5, 9)] == [None, None, 62, 62, 55, 55]
    assert buy_prices(CONFIG, DAMI, 2).price_of("五常大米") == Decimal("69")
    assert buy_prices(CONFIG, DAMI, 4).price_of("大米", "袋") == Decimal("62")
    assert buy_prices(CONFIG, DAMI, 5).amount(items(("五常大米", "2", "袋"))).value == Decimal("110.00")


def test_a_flash_claim_costs_the_sale_price_not_the_catalogue_price() -> None:
    sale = CONFIG.flash_sales[0]
    prices = sale_prices(CONFIG, sale)
    assert prices.price_of("砂糖橘", "箱") == Decimal("19.9")
    assert prices.amount(items(("沙糖桔", "3", "箱"))).value == Decimal("59.70")


def test_totals_are_the_sum_of_rounded_amounts() -> None:
    got = total([Amount(Decimal("13.29")), Amount(Decimal("0.01"), ("苹果",)), Amount(Decimal("59.85"), ("苹果",))])
    assert got == Amount(Decimal("73.15"), ("苹果",))
    assert amount_text(got) == "73.15元(苹果未计价)"
    assert amount_text(Amount(unpriced=("苹果", "梨"))) == "苹果、梨未计价"
    assert isinstance(got.value, Decimal)
    assert to_cents(Decimal("0.005")) == Decimal("0.01")
    assert fmt_money(Decimal("110")) == "110.00"


async def test_flash_claims_are_summarized_and_exported_at_the_sales_price(data_dir: Path) -> None:
    sale_config = with_flash_sale(HARNESS_CONFIG, stock=3, start="2026-11-26 20:00", end="2026-11-26 20:30")
    async with BotHarness(data_dir, config=sale_config, start=at("2026-11-26 20:00")) as bot:
        for who, text in (("王阿姨", "抢"), ("李姐", "砂糖橘+2"), ("何姐", "我要一箱")):
            await bot.say(who, text, settle=False)
        await bot.settle(horizon=timedelta(minutes=1))
        assert len(bot.expect_said([re.compile(".+", re.S)] * 3)) == 3  # sold out, who got it, the wait list
        config = bot.app.services.config
        sale = config.flash_sales[0]
        async with bot.app.db.sessions() as session:
            views = await load_flash_views(session, config, sale)
    summary = summarize(config, sale_buy(config, sale), views)
    assert [(ln.participant, ln.amount.value) for ln in summary.lines] == [
        ("王阿姨", Decimal("19.90")),  # the sale's 19.9, not the catalogue's 29.9
        ("李姐", Decimal("39.80")),
    ]
    assert [w.participant for w in summary.waiting] == ["何姐"]
    assert summary.total == Amount(Decimal("59.70"))
    assert format_summary(summary, sale_buy(config, sale)).splitlines()[1:4] == [
        "合计:砂糖橘3箱,共59.70元",
        "1. 王阿姨 砂糖橘1箱 19.90元 备注:限时秒杀",
        "2. 李姐 砂糖橘2箱 39.80元 备注:限时秒杀",
    ]
    detail = load_workbook(io.BytesIO(export_xlsx(summary, sale_buy(config, sale))))["明细"]
    rows = [[(c.value, c.data_type) for c in row[5:7]] for row in detail.iter_rows(min_row=2)]
    assert rows == [[(19.9, "n"), (19.9, "n")], [(19.9, "n"), (39.8, "n")]]
