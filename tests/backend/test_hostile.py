"""Hostile input to the backend (issue 17's probes), on SQLite and on PostgreSQL: each gets a clear 4xx, never a 500
or a dropped connection, and nothing is stored. Requests that a polite client would not even send go over a raw
socket, byte for byte as the probe sent them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.backend.store import OrderIn, OrderItem, store_order
from storage.db import Database
from storage.models import BackendOrder, BackendRequest
from tests.backend.conftest import TOKEN, Client, order_body
from tests.backend.test_api import count


async def raw_http(client: Client, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as it is; the status, headers and body of the answer (status 0: the connection was dropped)."""
    url = urlsplit(client.base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    if not data:
        return 0, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


def raw_get(path: str, *, token: bytes = TOKEN.encode()) -> bytes:
    return (
        b"GET "
        + path.encode()
        + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
        + token
        + b"\r\n\r\n"
    )


def raw_post(body: bytes, key: bytes = b"k1") -> bytes:
    return (
        b"POST /api/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + TOKEN.encode() + b"\r\nIdempotency-Key: " + key + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


async def nothing_stored(db: Database) -> bool:
    return await count(db, BackendOrder) == 0 and await count(db, BackendRequest) == 0


# --- the probes --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [b"\xff\xfe", "令牌".encode(), "令牌".encode("gbk"), b"s3cret-token\xa0"])
async def test_a_non_ascii_bearer_token_is_403_not_500(client: Client, token: bytes) -> None:
    status, _, body = await raw_http(client, raw_get("/api/orders", token=token))
    assert (status, json.loads(body)) == (403, {"error": "wrong token"})


@pytest.mark.parametrize(
    "body", [b"[" * 200_000 + b"]" * 200_000, b'{"items": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"]
)
async def test_400_kb_of_nesting_is_400(client: Client, db: Database, body: bytes) -> None:
    status, _, answer = await raw_http(client, raw_post(body))
    assert (status, json.loads(answer)) == (400, {"error": "the body is not valid JSON: nested too deeply"})
    assert await nothing_stored(db)


@pytest.mark.parametrize("version", [2**63, 2**31, 2**64 + 1])
async def test_a_version_the_column_cannot_hold_is_422(client: Client, db: Database, version: int) -> None:
    status, body = await client.post_order("v", order_body("王", ("草莓", 1, "盒"), order_ref="r", version=version))
    assert status == 422
    assert body == {
        "error": f"'version' must be a whole number from 1 to 2147483647, got {version}",
        "field": "version",
    }
    assert await nothing_stored(db)
    status, body = await client.post_order("v", order_body("王", ("草莓", 1, "盒"), order_ref="r", version=2**31 - 1))
    assert (status, body["order"]["version"]) == (201, 2**31 - 1)


@pytest.mark.parametrize(
    ("where", "text", "bad"),
    [
        ("participant", "3栋 \ud800王", "an unpaired surrogate (U+D800)"),
        ("participant", "3栋\x00王", "NUL"),
        ("items[0].product", "草\udfff莓", "an unpaired surrogate (U+DFFF)"),
        ("items[0].product", "草莓\x00", "NUL"),
        ("remark", "放门口\x00", "NUL"),
        ("member", "wxid\ud83d", "an unpaired surrogate (U+D83D)"),
    ],
)
async def test_a_lone_surrogate_or_nul_is_422(client: Client, db: Database, where: str, text: str, bad: str) -> None:
    body = order_body("王", ("草莓", 1, "盒"))
    if where == "items[0].product":
        body["items"][0]["product"] = text
    else:
        body[where] = text
    # json.dumps writes a lone surrogate as the escape \\ud800, exactly what the probe sent
    status, _, answer = await raw_http(client, raw_post(json.dumps(body).encode()))
    assert (status, json.loads(answer)) == (422, {"error": f"{where!r} must not contain {bad}", "field": where})
    assert await nothing_stored(db)


@pytest.mark.parametrize(
    "path",
    [
        "/api/buys/caomei%00/export.xlsx",
        "/api/buys/caomei%00/summary",
        "/api/buys/caomei%ED%A0%80/export.xlsx",
        "/api/buys/caomei/export.xlsx?group=%00",
    ],
)
async def test_a_nul_in_the_buy_id_of_the_path_is_404(client: Client, path: str) -> None:
    await client.post_order("k", order_body("王", ("草莓", 1, "盒")))
    status, _, body = await raw_http(client, raw_get(path))
    assert status == 404
    assert json.loads(body)["error"].startswith("no orders for buy")


async def test_a_nul_in_a_filter_is_400(client: Client) -> None:
    status, _, body = await raw_http(client, raw_get("/api/orders?group=%00"))
    assert (status, json.loads(body)) == (400, {"error": "the group filter must not contain NUL"})


async def test_a_buy_id_with_crlf_is_422_and_its_export_404(client: Client, db: Database) -> None:
    evil = "caomei\r\nX-Evil: 1"
    status, body = await client.post_order("crlf", order_body("王", ("草莓", 1, "盒"), buy=evil))
    assert (status, body["field"]) == (422, "buy")
    assert body["error"] == "'buy' must not contain control characters (line breaks, tabs)"
    assert await nothing_stored(db)
    status, _, answer = await raw_http(client, raw_get("/api/buys/caomei%0D%0AX-Evil:%201/export.xlsx"))
    assert status == 404
    assert json.loads(answer)["error"].startswith("no orders for buy")


async def test_a_crlf_buy_id_stored_before_the_rule_still_exports_with_safe_headers(
    client: Client, db: Database
) -> None:
    """A row written before ids were checked (straight into the store): its export is a file, not a dropped line."""
    evil = "caomei\r\nX-Evil: 1"
    order = OrderIn("阳光花园1号群", evil, "王", "王", (OrderItem("草莓", Decimal(1), "盒"),), "", "active", None, 1)
    await store_order(db, "old", order, now=datetime(2026, 11, 1, tzinfo=UTC))
    status, headers, body = await raw_http(client, raw_get("/api/buys/caomei%0D%0AX-Evil:%201/export.xlsx"))
    assert status == 200
    assert body.startswith(b"PK")  # an xlsx is a zip
    assert "x-evil" not in headers
    assert headers["content-disposition"] == (
        "attachment; filename=\"caomei__X-Evil: 1.xlsx\"; filename*=UTF-8''caomei%0D%0AX-Evil%3A%201.xlsx"
    )


@pytest.mark.parametrize(
    ("qty", "unit", "step"),
    [
        (0.0000001, "盒", "0.5"),
        (3.33, "盒", "0.5"),
        ("0.0000001", None, "0.01"),
        (1.255, "斤", "0.01"),
        (0.001, "kg", "0.01"),
    ],
)
async def test_a_quantity_finer_than_its_unit_allows_is_422(
    client: Client, db: Database, qty: Any, unit: str | None, step: str
) -> None:
    status, body = await client.post_order("q", order_body("王", ("草莓", qty, unit)))
    assert status == 422
    assert body["field"] == "items[0].qty"
    assert body["error"].endswith(f"is not a quantity of {unit or 'a unit'}: order in steps of {step}")
    assert await nothing_stored(db)


@pytest.mark.parametrize(
    ("qty", "unit"),
    [(0.5, "盒"), (3, "盒"), (4.5, "盒"), (1.5, "斤"), (1.25, "斤"), (0.35, "kg"), (500, "g"), (2.5, "克")],
)
async def test_a_quantity_its_unit_allows_is_stored(client: Client, qty: Any, unit: str) -> None:
    status, body = await client.post_order(f"ok-{qty}-{unit}", order_body("王", ("草莓", qty, unit)))
    assert (status, body["order"]["items"]) == (201, [{"product": "草莓", "qty": qty, "unit": unit}])


# --- what passed and must stay ----------------------------------------------------------------------------------


async def test_a_huge_body_is_413_and_stores_nothing(client: Client, db: Database) -> None:
    body = json.dumps(order_body("王", ("草莓", 1, "盒"), remark="长" * 2_000_000)).encode()
    status, _, answer = await raw_http(client, raw_post(body))
    assert status == 413
    assert "error" in json.loads(answer)
    assert await nothing_stored(db)


@pytest.mark.parametrize(
    "path",
    [
        "/api/buys/..%2F..%2Fetc%2Fpasswd/export.xlsx",
        "/api/buys/%2E%2E/export.xlsx",
        "/api/buys/caomei%2F..%2F..%2Fsecret/export.xlsx",
        "/api/buys/nothing/export.xlsx/../../../etc/passwd",
    ],
)
async def test_path_tricks_on_the_export_find_nothing(client: Client, path: str) -> None:
    status, _, body = await raw_http(client, raw_get(path))
    assert status == 404
    assert "error" in json.loads(body)


@pytest.mark.parametrize("key", [b"\xff\xfe", "钥匙".encode("gbk")])
async def test_an_idempotency_key_that_is_not_printable_text_is_400(client: Client, db: Database, key: bytes) -> None:
    body = json.dumps(order_body("王", ("草莓", 1, "盒"))).encode()
    status, _, answer = await raw_http(client, raw_post(body, key=key))
    assert (status, json.loads(answer)) == (400, {"error": "the Idempotency-Key must be printable text"})
    assert await nothing_stored(db)
