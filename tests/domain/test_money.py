"""Money rules: the price in force (item, ladder tier reached, flash sale), rounding to the 分, exact decimals."""

from __future__ import annotations

from decimal import Decimal

from bot.config import parse_config_text
from bot.domain.money import Amount, amount_text, buy_prices, fmt_money, ladder_price, sale_prices, to_cents, total
from bot.domain.summary import ItemQty
from tests.conftest import CONTRACT

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
