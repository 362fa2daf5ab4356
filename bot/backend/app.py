"""The leader's backend: an aiohttp service that receives the bot's orders and serves summaries and xlsx exports.

Every `/api` route needs `Authorization: Bearer <TUANBOT_BACKEND_TOKEN>`; `/healthz` does not.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.backend.payments import paid_of, parse_payment, store_payment
from bot.backend.store import (
    KEY_MAX,
    InvalidOrder,
    KeyConflict,
    database_problem,
    list_orders,
    number,
    order_json,
    order_views,
    parse_order,
    store_order,
    unstorable,
)
from bot.config import Buy, BuyItem, Config
from bot.domain.export import XLSX_MIME, export_xlsx
from bot.domain.money import ZERO, Amount
from bot.domain.summary import (
    BuySummary,
    ItemQty,
    ParticipantLine,
    dues,
    format_summary,
    sale_buy,
    summarize,
)
from bot.logs import get_logger
from storage.db import Database

log = get_logger("tuanbot.backend")

DB_KEY = web.AppKey("db", Database)
CONFIG_KEY = web.AppKey("config", Config)
RULES_KEY = web.AppKey("has_rules", bool)
TOKEN_KEY = web.AppKey("token", bytes)
HEALTH_TIMEOUT = 5.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


# --- middlewares --------------------------------------------------------------------------------------------------


@web.middleware
async def _logged(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One JSON event per request; an unexpected error is logged with its stack and answered 500, never leaked."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # aiohttp's own 404/405/413: answered as JSON like ours
        response = error(exc.status, exc.reason)
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
    except Exception:
        log.exception("backend_error", method=request.method, path=request.path)
        response = error(500, "internal error; see the backend log")
    ms = round((time.perf_counter() - started) * 1000, 1)
    log.info("backend_request", method=request.method, path=request.path, status=response.status, ms=ms)
    return response


@web.middleware
async def _authorized(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        log.warning("backend_auth_missing", path=request.path)
        response = error(401, "missing bearer token (Authorization: Bearer …)")
        response.headers["WWW-Authenticate"] = 'Bearer realm="tuanbot"'
        return response
    # aiohttp decodes header bytes as UTF-8 with surrogateescape: a token in latin-1 (or any bytes) compares as sent
    if not hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), request.app[TOKEN_KEY]):
        log.warning("backend_auth_wrong", path=request.path, peer=request.remote)
        return error(403, "wrong token")
    return await handler(request)


# --- handlers -----------------------------------------------------------------------------------------------------


async def post_order(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return error(400, "an Idempotency-Key header is required")
    if len(key) > KEY_MAX:
        return error(400, f"the Idempotency-Key is longer than {KEY_MAX} characters")
    if unstorable(key) is not None or not key.isprintable():
        return error(400, "the Idempotency-Key must be printable text")
    raw = await request.read()
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        log.info("backend_order_rejected", key=key, reason="malformed JSON")
        return error(400, f"the body is not valid JSON: {exc}")
    except RecursionError:  # `[[[[…` thousands deep: json's C decoder gives up on its own
        log.info("backend_order_rejected", key=key, reason="nested too deeply")
        return error(400, "the body is not valid JSON: nested too deeply")
    try:
        order = parse_order(body)
    except InvalidOrder as exc:
        log.info("backend_order_rejected", key=key, reason=str(exc), field=exc.field)
        return error(422, str(exc), field=exc.field)
    try:
        answer = await store_order(request.app[DB_KEY], key, order)
    except KeyConflict:
        log.warning("backend_key_conflict", key=key, group=order.group, buy=order.buy)
        return error(422, f"Idempotency-Key {key!r} was already used for a different order; send a new key")
    stored = answer.body["order"]
    event = "backend_order_replayed" if answer.result == "replayed" else "backend_order_stored"
    log.info(
        event,
        key=key,
        ref=stored["ref"],
        version=stored["version"],
        sent_version=order.version,
        result=answer.result,
        group=order.group,
        buy=order.buy,
        status=stored["status"],
    )
    if answer.conflict:
        log.warning("backend_order_version_conflict", key=key, ref=stored["ref"], version=order.version)
    return _json(answer.body, answer.status)


async def post_payment(request: web.Request) -> web.Response:
    """A payment a leader marked (`已收`), one version of it (bot.backend.payments)."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > KEY_MAX or unstorable(key) is not None or not key.isprintable():
        return error(400, f"an Idempotency-Key header of printable text, at most {KEY_MAX} characters, is required")
    try:
        payment = parse_payment(json.loads((await request.read()).decode("utf-8")), key)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, InvalidOrder):
            return error(422, str(exc), field=exc.field)
        return error(400, "the body is not valid JSON")
    status, result = await store_payment(request.app[DB_KEY], payment)
    log.info("backend_payment_stored", key=key, ref=payment.ref, version=payment.version, result=result)
    return _json({"result": result, "payment": {"ref": payment.ref, "version": payment.version}}, status)


async def get_orders(request: web.Request) -> web.Response:
    group, buy = request.query.get("group") or None, request.query.get("buy") or None
    for name, value in (("group", group), ("buy", buy)):
        bad = unstorable(value) if value is not None else None
        if bad is not None:
            return error(400, f"the {name} filter must not contain {bad}")
    rows = await list_orders(request.app[DB_KEY], group=group, buy=buy)
    return _json({"orders": [order_json(row) for row in rows]})


async def _summary(request: web.Request) -> tuple[BuySummary, Buy, str] | web.Response:
    buy_id = request.match_info["buy"]
    group = request.query.get("group") or None
    if unstorable(buy_id) is not None or (group is not None and unstorable(group) is not None):
        # no order can hold such an id (`bot.backend.body`); PostgreSQL would refuse to even look for it
        return error(404, f"no orders for buy {buy_id!r}, and no config that knows it")
    config = request.app[CONFIG_KEY]
    known_buy = _configured_buy(config, buy_id) if request.app[RULES_KEY] else None
    rows = await list_orders(request.app[DB_KEY], buy=buy_id)
    if known_buy is None and not rows:
        return error(404, f"no orders for buy {buy_id!r}, and no config that knows it")
    if known_buy is not None:
        buy, rules = known_buy, "config"
        known = _product_names(config, buy)
    else:
        buy, rules, known = _minimal_buy(buy_id, rows), "none", None
    views = order_views(rows, known)
    paid = await paid_of(request.app[DB_KEY], buy_id)
    summary = summarize(config, buy, views, group, paid=paid or None)  # no payment sent: nothing said of them
    return summary, buy, rules


async def get_summary(request: web.Request) -> web.Response:
    found = await _summary(request)
    if isinstance(found, web.Response):
        return found
    summary, buy, rules = found
    log.info("backend_summary", buy=summary.buy_id, group=summary.group, rules=rules, lines=len(summary.lines))
    return _json(summary_json(summary, buy, rules))


async def get_export(request: web.Request) -> web.Response:
    found = await _summary(request)
    if isinstance(found, web.Response):
        return found
    summary, buy, rules = found
    data = await asyncio.to_thread(export_xlsx, summary, buy)
    log.info("backend_export", buy=summary.buy_id, group=summary.group, rules=rules, bytes=len(data))
    name = f"{summary.buy_id}.xlsx"
    # only printable ASCII in the plain name (a CR/LF in a stored buy id must not reach the headers)
    ascii_name = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    utf8_name = quote(name, safe="", errors="replace")
    return web.Response(
        body=data,
        content_type=XLSX_MIME,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{utf8_name}",
            "X-Tuanbot-Rules": rules,
        },
    )


async def healthz(request: web.Request) -> web.Response:
    try:
        problem = await asyncio.wait_for(database_problem(request.app[DB_KEY]), HEALTH_TIMEOUT)
    except TimeoutError:
        problem = f"no answer within {HEALTH_TIMEOUT:g}s"
    if problem is not None:
        log.error("backend_unhealthy", problem=problem)
        return _json({"ok": False, "error": "database unreachable"}, 503)
    return _json({"ok": True})


# --- summary as JSON ----------------------------------------------------------------------------------------------


def _product_names(config: Config, buy: Buy) -> set[str]:
    names: set[str] = set()
    for item in buy.items:
        names.add(item.product)
        product = config.product(item.product)
        if product is not None:
            names.update(product.names)
    return names


def _configured_buy(config: Config, buy_id: str) -> Buy | None:
    """The configured buy with this id, or the configured flash sale as a buy (its claims at the sale's price)."""
    sale = next((s for s in config.flash_sales if s.id == buy_id), None)
    return config.buy(buy_id) or (sale_buy(config, sale) if sale is not None else None)


def _minimal_buy(buy_id: str, rows: list[Any]) -> Buy:
    """A buy the config does not describe: its id as title, its products from the orders, no 成团 rules."""
    products = dict.fromkeys(str(it["product"]) for row in rows for it in row.items)
    items = [BuyItem.model_construct(product=p, price=None, stock=None, unit=None) for p in products]
    return Buy.model_construct(id=buy_id, title=buy_id, groups="all", items=items, min_members=None, ladder=[])


def _item(it: ItemQty, amount: Amount | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"product": it.product, "qty": number(it.qty), "unit": it.unit}
    if not it.known:
        out["known"] = False
    if amount is not None:
        out.update(_amount(amount))
    return out


def _amount(amount: Amount) -> dict[str, Any]:
    """`amount` in yuan as a JSON number (exact to the 分), and what has no price when something has none."""
    out: dict[str, Any] = {"amount": number(amount.value)}
    if amount.unpriced:
        out["unpriced"] = list(amount.unpriced)
    return out


def _line(line: ParticipantLine, priced: bool = True) -> dict[str, Any]:
    out = {
        "participant": line.participant,
        "group": line.group,
        "items": [_item(it) for it in line.items],
        "remark": line.remark,
    }
    return out | _amount(line.amount) if priced else out


def summary_json(summary: BuySummary, buy: Buy, rules: str) -> dict[str, Any]:
    s = summary.status
    return {
        "buy": summary.buy_id,
        "title": summary.title,
        "group": summary.group,
        "rules": rules,
        "totals": [_item(t, a) for t, a in zip(summary.totals, summary.amounts, strict=True)],
        "total": number(summary.total.value),
        "unpriced": list(summary.total.unpriced),
        "lines": [_line(ln) for ln in summary.lines],
        "waiting": [_line(ln, priced=False) for ln in summary.waiting],
        "unknown": [_line(ln) for ln in summary.unknown],
        "pickup": [{"address": addr, "lines": [_line(ln) for ln in lines]} for addr, lines in summary.pickup],
        "status": {
            "members": s.members,
            "target": s.target,
            "missing": s.missing,
            "formed": s.formed,
            "price": number(s.price) if s.price is not None else None,
            "next_price": number(s.next_price) if s.next_price is not None else None,
        },
        "payments": _payments(summary),
        "text": format_summary(summary, buy, "lines"),
    }


def _payments(summary: BuySummary) -> dict[str, Any] | None:
    """Who has paid (`已收` in the bot) and what is owed, per participant; None until a payment was sent."""
    if summary.paid is None:
        return None
    owed = dues(summary)
    unpaid = [d for d in owed if d.unpaid]
    return {
        "settled": len(owed) - len(unpaid),
        "unpaid": len(unpaid),
        "owing": number(sum((max(d.owing, ZERO) for d in unpaid), ZERO)),
        "participants": [
            {
                "participant": d.participant,
                "group": d.group,
                "amount": number(d.amount.value),
                "paid": number(d.paid) if d.paid is not None else 0,
                "owing": number(max(d.owing, ZERO)),
                "settled": not d.unpaid,
            }
            for d in owed
        ],
    }


# --- the app and the server ---------------------------------------------------------------------------------------


def make_app(db: Database, config: Config | None = None, *, token: str) -> web.Application:
    """The service over an opened `db`; `config` supplies buy rules (min_members, ladder, prices) when given."""
    if not token:
        raise ValueError("the backend needs a token (TUANBOT_BACKEND_TOKEN)")
    app = web.Application(middlewares=[_logged, _authorized])
    app[DB_KEY] = db
    app[CONFIG_KEY] = config if config is not None else Config.model_validate({})
    app[RULES_KEY] = config is not None
    app[TOKEN_KEY] = token.encode("utf-8")
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/orders", post_order)
    app.router.add_get("/api/orders", get_orders)
    app.router.add_post("/api/payments", post_payment)
    app.router.add_get("/api/buys/{buy}/summary", get_summary)
    app.router.add_get("/api/buys/{buy}/export.xlsx", get_export)
    return app


async def serve(
    host: str,
    port: int,
    *,
    database_url: str,
    token: str,
    config: Config | None = None,
    stop: asyncio.Event | None = None,
    on_started: Callable[[int], None] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set): open and migrate the database, serve, then shut down cleanly."""
    db = Database(database_url)
    await db.open()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or a platform without signals
            pass
    runner = web.AppRunner(make_app(db, config, token=token), access_log=None, shutdown_timeout=10)
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = _bound_port(runner) or port
        log.info("backend_started", host=host, port=bound, rules="config" if config is not None else "none")
        if on_started is not None:
            on_started(bound)
        await stop.wait()
        log.info("backend_stopping")
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        await runner.cleanup()  # stops accepting, lets requests in flight finish
        await db.close()
    log.info("backend_stopped")


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None
