"""The backend API over real HTTP on loopback, on SQLite and PostgreSQL: auth, idempotent orders, versions, filters."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from bot.backend.app import make_app
from storage.db import Database
from storage.models import BackendOrder, BackendRequest
from tests.backend.conftest import G1, G2, TOKEN, Client, order_body, running


async def count(db: Database, model: type[Any]) -> int:
    async with db.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


# --- auth and health ----------------------------------------------------------------------------------------------

API_ROUTES = [
    ("GET", "/api/orders"),
    ("POST", "/api/orders"),
    ("GET", "/api/buys/caomei/summary"),
    ("GET", "/api/buys/caomei/export.xlsx"),
]


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
async def test_every_api_route_needs_the_token(client: Client, method: str, path: str) -> None:
    status, body, headers = await client.request(method, path, auth=False)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in body["error"]

    status, body, _ = await client.request(method, path, auth=False, headers={"Authorization": "Bearer nope"})
    assert status == 403
    assert body == {"error": "wrong token"}

    status, _, _ = await client.request(method, path, auth=False, headers={"Authorization": f"Basic {TOKEN}"})
    assert status == 401


async def test_a_token_prefix_or_extension_is_still_wrong(client: Client) -> None:
    for wrong in (TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "令牌"):
        status, _, _ = await client.request(
            "GET", "/api/orders", auth=False, headers={"Authorization": f"Bearer {wrong}"}
        )
        assert status == 403, wrong


async def test_healthz_needs_no_token_and_checks_the_database(client: Client) -> None:
    status, body, _ = await client.request("GET", "/healthz", auth=False)
    assert (status, body) == (200, {"ok": True})


@pytest.mark.parametrize(
    "where",
    ["unreachable", "not migrated"],
)
async def test_healthz_is_503_when_the_database_is_not_usable(tmp_path: Path, where: str) -> None:
    if where == "unreachable":  # nothing listens on port 1
        broken = Database("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    else:  # a database without the backend's tables
        broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        async with running(broken) as c:
            status, body, _ = await c.request("GET", "/healthz", auth=False)
        assert status == 503
        assert body == {"ok": False, "error": "database unreachable"}
    finally:
        await broken.close()


async def test_unknown_routes_and_methods_answer_json(client: Client) -> None:
    status, body, _ = await client.request("GET", "/api/nothing")
    assert status == 404
    assert "error" in body
    status, body, headers = await client.request("DELETE", "/api/orders")
    assert status == 405
    assert "POST" in headers["Allow"]


def test_the_app_refuses_an_empty_token(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TUANBOT_BACKEND_TOKEN"):
        make_app(Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"), token="")


# --- POST /api/orders ---------------------------------------------------------------------------------------------


async def test_post_stores_the_order_with_defaults(client: Client, db: Database) -> None:
    status, body = await client.post_order("k-1", order_body("3栋 王阿姨", ("草莓", 2, "盒")))
    assert status == 201
    assert body["result"] == "created"
    order = body["order"]
    assert order["ref"] == "k-1"  # no order_ref: the key names the order
    assert order["participant"] == "3栋 王阿姨"  # defaults to the member
    assert order["status"] == "active"
    assert order["version"] == 1
    assert order["items"] == [{"product": "草莓", "qty": 2, "unit": "盒"}]
    assert order["remark"] == ""

    status, listed = await client.get("/api/orders")
    assert status == 200
    assert listed == {"orders": [order]}
    assert await count(db, BackendOrder) == 1


async def test_the_same_key_again_stores_nothing_and_answers_as_the_first_time(client: Client, db: Database) -> None:
    body = order_body("王阿姨", ("草莓", "1.5", "盒"), remark="要大的")
    first = await client.post_order("order:7:v1", body)
    assert first[0] == 201
    for _ in range(3):
        assert await client.post_order("order:7:v1", body) == first
    # Same order written differently (defaults spelled out, qty as a number) is the same order.
    spelled = {
        **body,
        "participant": "王阿姨",
        "status": "active",
        "items": [{"product": "草莓", "qty": 1.5, "unit": "盒"}],
    }
    assert await client.post_order("order:7:v1", spelled) == first
    assert await count(db, BackendOrder) == 1
    assert await count(db, BackendRequest) == 1
    assert first[1]["order"]["items"][0]["qty"] == 1.5


async def test_the_same_key_with_a_different_body_is_422(client: Client, db: Database) -> None:
    assert (await client.post_order("k", order_body("王阿姨", ("草莓", 1, "盒"))))[0] == 201
    status, body = await client.post_order("k", order_body("王阿姨", ("草莓", 2, "盒")))
    assert status == 422
    assert "Idempotency-Key" in body["error"]
    assert "different" in body["error"]
    _, listed = await client.get("/api/orders")
    assert [o["items"][0]["qty"] for o in listed["orders"]] == [1]


async def test_concurrent_posts_with_one_key_store_one_order(client: Client, db: Database) -> None:
    body = order_body("王阿姨", ("草莓", 1, "盒"), order_ref="bot1:9", version=1)
    answers = await asyncio.gather(*(client.post_order("order:9:v1", body) for _ in range(8)))
    assert {a[0] for a in answers} == {201}
    assert all(a == answers[0] for a in answers)
    assert await count(db, BackendOrder) == 1
    assert await count(db, BackendRequest) == 1


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("a list, not an object", [1, 2], "object"),
    ("no group", {"buy": "caomei", "member": "王", "items": []}, "group"),
    ("no buy", {"group": G1, "member": "王", "items": []}, "buy"),
    ("no member", {"group": G1, "buy": "caomei", "items": []}, "member"),
    ("empty member", {"group": G1, "buy": "caomei", "member": " ", "items": []}, "member"),
    ("no items", {"group": G1, "buy": "caomei", "member": "王"}, "items"),
    ("items not a list", order_body("王") | {"items": {"product": "草莓"}}, "items"),
    ("item not an object", order_body("王") | {"items": ["草莓2盒"]}, "items[0]"),
    ("item without product", order_body("王") | {"items": [{"qty": 1}]}, "items[0].product"),
    ("item without qty", order_body("王") | {"items": [{"product": "草莓"}]}, "items[0].qty"),
    ("qty zero", order_body("王", ("草莓", 0, "盒")), "positive"),
    ("qty negative", order_body("王", ("草莓", -1, "盒")), "positive"),
    ("qty negative text", order_body("王", ("草莓", "-0.5", "盒")), "positive"),
    ("qty not a number", order_body("王", ("草莓", "两盒", "盒")), "number"),
    ("qty empty text", order_body("王", ("草莓", "", "盒")), "number"),
    ("qty a boolean", order_body("王", ("草莓", True, "盒")), "number"),
    ("qty NaN", order_body("王", ("草莓", "NaN", "盒")), "finite"),
    ("qty Infinity", order_body("王", ("草莓", "Infinity", "盒")), "finite"),
    ("qty absurd", order_body("王", ("草莓", "1e30", "盒")), "large"),
    ("second item bad", order_body("王", ("草莓", 1, "盒"), ("大米", 0, "袋")), "items[1].qty"),
    ("unit a number", order_body("王") | {"items": [{"product": "草莓", "qty": 1, "unit": 5}]}, "unit"),
    ("unknown status", order_body("王", ("草莓", 1, "盒"), status="paid"), "status"),
    ("version zero", order_body("王", ("草莓", 1, "盒"), version=0), "version"),
    ("version text", order_body("王", ("草莓", 1, "盒"), version="2"), "version"),
    ("group a number", order_body("王") | {"group": 7}, "group"),
]


async def test_bad_bodies_are_4xx_with_a_message_and_store_nothing(client: Client, db: Database) -> None:
    for i, (case, body, says) in enumerate(BAD_BODIES):
        status, answer = await client.post_order(f"bad-{i}", body)
        assert 400 <= status < 500, case
        assert says in answer["error"], (case, answer)
    assert await count(db, BackendOrder) == 0
    assert await count(db, BackendRequest) == 0


@pytest.mark.parametrize(
    ("raw", "says"),
    [(b"{not json", "not valid JSON"), (b"", "not valid JSON"), (b"\xff\xfe", "not valid JSON")],
)
async def test_malformed_json_is_400(client: Client, raw: bytes, says: str) -> None:
    status, body, _ = await client.request(
        "POST", "/api/orders", headers={"Idempotency-Key": "k", "Content-Type": "application/json"}, data=raw
    )
    assert status == 400
    assert says in body["error"]


async def test_a_post_without_idempotency_key_is_400(client: Client, db: Database) -> None:
    status, body = await client.post_order(None, order_body("王", ("草莓", 1, "盒")))
    assert status == 400
    assert "Idempotency-Key" in body["error"]
    status, body = await client.post_order("x" * 201, order_body("王", ("草莓", 1, "盒")))
    assert status == 400
    assert await count(db, BackendOrder) == 0


async def test_a_fixed_body_under_a_rejected_key_is_then_stored(client: Client) -> None:
    assert (await client.post_order("k", order_body("王", ("草莓", 0, "盒"))))[0] == 422
    assert (await client.post_order("k", order_body("王", ("草莓", 1, "盒"))))[0] == 201


# --- versions by order_ref ----------------------------------------------------------------------------------------


def synced(version: int, qty: Any, status: str = "active", **extra: Any) -> tuple[str, dict[str, Any]]:
    """What the bot's sync worker sends for order 42, version `version`."""
    body = order_body(
        "wxid_wang",
        ("草莓", qty, "盒"),
        participant="3栋 王阿姨",
        remark="",
        status=status,
        order_ref="bot1:42",
        version=version,
        **extra,
    )
    return f"order:42:v{version}", body


async def test_order_ref_upserts_and_an_older_version_changes_nothing(client: Client, db: Database) -> None:
    status, body = await client.post_order(*synced(1, 1))
    assert (status, body["result"], body["order"]["ref"]) == (201, "created", "bot1:42")
    status, body = await client.post_order(*synced(3, 3))
    assert (status, body["result"], body["order"]["version"]) == (201, "updated", 3)
    # v2 arrives late (a retry overtaken by v3): it succeeds but the stored order stays v3.
    status, body = await client.post_order(*synced(2, 2))
    assert (status, body["result"]) == (200, "unchanged")
    assert body["order"]["version"] == 3
    assert body["order"]["items"][0]["qty"] == 3
    # ...and its key replays that same answer.
    assert await client.post_order(*synced(2, 2)) == (status, body)

    _, listed = await client.get("/api/orders")
    assert len(listed["orders"]) == 1
    only = listed["orders"][0]
    assert (only["ref"], only["version"], only["items"][0]["qty"], only["participant"]) == (
        "bot1:42",
        3,
        3,
        "3栋 王阿姨",
    )
    assert only["member"] == "wxid_wang"
    assert await count(db, BackendOrder) == 1
    assert await count(db, BackendRequest) == 3


async def test_a_cancelled_version_is_listed_with_its_status(client: Client) -> None:
    await client.post_order(*synced(1, 1))
    status, body = await client.post_order(*synced(2, 1, status="cancelled"))
    assert (status, body["order"]["status"]) == (201, "cancelled")
    _, listed = await client.get("/api/orders")
    assert [(o["ref"], o["status"]) for o in listed["orders"]] == [("bot1:42", "cancelled")]
    _, summary = await client.get("/api/buys/caomei/summary")
    assert summary["lines"] == []
    assert summary["totals"] == []


async def test_concurrent_versions_of_one_order_keep_the_newest(client: Client, db: Database) -> None:
    versions = list(range(1, 13))
    random.Random(7).shuffle(versions)
    answers = await asyncio.gather(*(client.post_order(*synced(v, v)) for v in versions))
    assert all(status in (200, 201) for status, _ in answers)
    _, listed = await client.get("/api/orders")
    assert [(o["version"], o["items"][0]["qty"]) for o in listed["orders"]] == [(12, 12)]
    assert await count(db, BackendOrder) == 1


# --- GET /api/orders ----------------------------------------------------------------------------------------------


async def test_get_orders_filters_by_group_and_buy(client: Client) -> None:
    await client.post_order("a", order_body("王", ("草莓", 1, "盒"), group=G1, buy="caomei"))
    await client.post_order("b", order_body("李", ("草莓", 2, "盒"), group=G2, buy="caomei"))
    await client.post_order("c", order_body("赵", ("五常大米", 1, "袋"), group=G1, buy="dami"))

    async def members(query: str) -> list[str]:
        status, body = await client.get(f"/api/orders{query}")
        assert status == 200
        return [o["member"] for o in body["orders"]]

    assert await members("") == ["王", "李", "赵"]
    assert await members(f"?group={G1}") == ["王", "赵"]
    assert await members("?buy=caomei") == ["王", "李"]
    assert await members(f"?group={G2}&buy=caomei") == ["李"]
    assert await members(f"?group={G2}&buy=dami") == []
    assert await members("?group=&buy=dami") == ["赵"]  # an empty filter is no filter


async def test_each_post_is_logged_as_a_json_event(client: Client) -> None:
    body = order_body("王阿姨", ("草莓", 1, "盒"))
    with capture_logs() as events:
        await client.post_order("k", body)
        await client.post_order("k", body)
        await client.post_order("k", order_body("王阿姨", ("草莓", 2, "盒")))
        await client.request("GET", "/api/orders", auth=False)
    names = [e["event"] for e in events]
    assert names == [
        "backend_order_stored",
        "backend_request",
        "backend_order_replayed",
        "backend_request",
        "backend_key_conflict",
        "backend_request",
        "backend_auth_missing",
        "backend_request",
    ]
    stored = events[0]
    assert (stored["key"], stored["ref"], stored["result"], stored["buy"]) == ("k", "k", "created", "caomei")
    assert events[-1]["status"] == 401
