"""Payments reach the leader's backend (#15): a leader's `已收` in the bot is a sync outbox change the worker POSTs to
`/api/payments`; the buy's summary then says who has paid and what is owed, and its workbook has the 付款 column."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from bot.config import parse_config_text
from storage.db import Database
from storage.sync import SyncWorker
from tests.backend.conftest import TOKEN, Client, running
from tests.harness import CONFIG, BotHarness, chain

H = "#接龙 周六丹东草莓团"
G1 = "阳光花园1号群"


async def test_a_payment_marked_in_the_bot_shows_in_the_backends_summary_and_export(
    data_dir: Path, db: Database
) -> None:
    config = parse_config_text(CONFIG, file="test.yaml")
    async with BotHarness(data_dir) as bot, running(db, config) as client:
        lines = ["3栋 王阿姨 草莓2盒", "2栋 陈叔 草莓3盒"]
        await bot.say("王阿姨", chain(H, lines[0]))
        await bot.say("陈叔", chain(H, *lines))
        await bot.say("张姐", "已收 王阿姨 50")
        await bot.say("张姐", "已收 王阿姨")  # the rest: a second version of the same payment
        bot.consume(G1)  # the digests and confirmations: tests/test_payments.py checks them
        async with SyncWorker(bot.app.db, client.base, TOKEN, bot.clock, first_wait=0.01) as worker:
            assert await worker.send_pending() == 4  # two orders, two versions of one payment
        status, summary = await client.get("/api/buys/caomei/summary")
        assert status == 200
        assert summary["payments"] == {
            "settled": 1,
            "unpaid": 1,
            "owing": 119.7,
            "participants": [
                {"participant": "3栋 王阿姨", "group": G1, "amount": 79.8, "paid": 79.8, "owing": 0, "settled": True},
                {"participant": "2栋 陈叔", "group": G1, "amount": 119.7, "paid": 0, "owing": 119.7, "settled": False},
            ],
        }
        assert summary["text"].split("\n")[2:5] == [
            "1. 3栋 王阿姨 草莓2盒 79.80元 ✓已付",
            "2. 2栋 陈叔 草莓3盒 119.70元 未付",
            "收款:已付清1人,未付1人共119.70元",
        ]
        status, data, _ = await client.request("GET", "/api/buys/caomei/export.xlsx")
        detail = [(r[0], r[8]) for r in load_workbook(io.BytesIO(data))["明细"].iter_rows(values_only=True)]
        assert detail == [("接龙人", "付款"), ("3栋 王阿姨", "已付"), ("2栋 陈叔", "未付")]


async def test_a_payment_is_stored_once_and_an_older_version_changes_nothing(client: Client) -> None:
    body = {"group": G1, "buy": "caomei", "participant": "3栋 王阿姨", "paid": "79.80", "order_ref": "payment:1"}

    async def post(version: int, paid: str, key: str) -> tuple[int, object]:
        status, answer, _ = await client.request(
            "POST", "/api/payments", headers={"Idempotency-Key": key}, json=body | {"paid": paid, "version": version}
        )
        return status, answer

    assert await post(1, "50.00", "payment:1:v1") == (
        201,
        {"result": "created", "payment": {"ref": "payment:1", "version": 1}},
    )
    assert await post(2, "79.80", "payment:1:v2") == (
        201,
        {"result": "updated", "payment": {"ref": "payment:1", "version": 2}},
    )
    assert (await post(1, "50.00", "payment:1:v1"))[1] == {
        "result": "unchanged",
        "payment": {"ref": "payment:1", "version": 1},
    }
    status, summary = await client.get("/api/buys/caomei/summary")
    assert status == 200
    assert summary["payments"] == {"settled": 0, "unpaid": 0, "owing": 0, "participants": []}  # no order of hers here
    status, answer = await post(1, "-1", "payment:1:v9")
    assert (status, answer["field"]) == (422, "paid")
    status, answer = await post(1, "1.234", "payment:1:v9")
    assert (status, answer["field"]) == (422, "paid")
    status, answer, _ = await client.request("POST", "/api/payments", json=body)
    assert status == 400  # no Idempotency-Key


async def test_without_payments_the_summary_says_nothing_of_them(client: Client) -> None:
    status, summary = await client.get("/api/buys/caomei/summary")
    assert (status, summary["payments"]) == (200, None)
