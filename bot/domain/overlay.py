"""What leaders changed in chat, layered on the YAML plan (issue #15).

The YAML is the plan; `chat_buys` rows (`storage.models.ChatBuy`) are what chat changed on it: a buy made in chat
(origin `chat`: the whole buy, and any product it brought into the catalogue) or a YAML buy whose opening, cutoff or
stock a leader changed (origin `plan`: those fields only, with the YAML's values when they were changed). Whenever
a config is applied in the running bot (start, reload, after a chat command) `apply_chat_changes` lays the rows on
the plan and makes the result `services.config`; the plan itself is kept in `services.plan`.

Precedence: chat wins over the YAML for what chat changed (the group was told it), and a conflict is reported to the
leader who made the change, privately, once: the YAML now defines a buy with the id of one made in chat (the chat
one keeps running, the YAML's is left out), the YAML changed a field chat had changed (chat's value stays), or the
YAML no longer has a buy chat changed (the change has nothing to apply to)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import select

from bot.config import Buy, Product
from bot.config.values import current_timezone
from bot.events import Outbound
from bot.logs import get_logger
from storage.db import Database, missing_store
from storage.models import ChatBuy

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core.services import Services

log = get_logger("tuanbot.overlay")


@dataclass(frozen=True)
class Conflict:
    buy_id: str
    made_by: str
    text: str  # what the leader is told


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def plan_fields(buy: Buy) -> dict[str, Any]:
    """The fields chat may change on a YAML buy, as stored (JSON): opens, cutoff, each item's stock."""
    return {
        "opens": _iso(buy.opens),
        "cutoff": _iso(buy.cutoff),
        "stock": {item.product: item.stock for item in buy.items},
    }


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def changed_buy(buy: Buy, spec: dict[str, Any]) -> Buy:
    """`buy` with the fields chat changed (`spec`: any of opens, cutoff, stock)."""
    update: dict[str, Any] = {}
    for key in ("opens", "cutoff"):
        if key in spec:
            update[key] = _when(spec[key])
    stock = spec.get("stock") or {}
    if stock:
        items = [i.model_copy(update={"stock": stock[i.product]}) if i.product in stock else i for i in buy.items]
        update["items"] = items
    return buy.model_copy(update=update)


def buy_of_spec(spec: dict[str, Any], config: Config) -> Buy:
    token = current_timezone.set(config.tz)
    times = {k: _when(spec.get(k)) for k in ("opens", "cutoff", "arrival") if spec.get(k) is not None}
    try:
        return Buy.model_validate({**spec, **times})
    finally:
        current_timezone.reset(token)


def _said(value: Any, config: Config) -> str:
    when = _when(value)
    if when is None:
        return "无" if value is None else str(value)
    local = when.astimezone(config.tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def layer(plan: Config, rows: Sequence[ChatBuy]) -> tuple[Config, list[Conflict]]:
    """The plan with chat's changes on it, and the conflicts found (pure)."""
    buys = list(plan.buys)
    catalogue = list(plan.catalogue)
    conflicts: list[Conflict] = []
    for row in rows:
        index = next((i for i, b in enumerate(buys) if b.id == row.buy_id), None)
        if row.origin == "chat":
            try:
                brought = [Product.model_validate(p) for p in row.products]
                buy = buy_of_spec(row.spec, plan)
            except ValidationError as exc:  # a row this version cannot read: reported, never a failed start
                log.error("chat_buy_unreadable", buy=row.buy_id, error=str(exc)[:300])
                text = f"⚠️ 你在群里开的团 {row.buy_id} 读不出来了,暂时没有生效,请重新开团。"
                conflicts.append(Conflict(row.buy_id, row.made_by, text))
                continue
            catalogue.extend(p for p in brought if not any(p.name in known.names for known in catalogue))
            if index is None:
                buys.append(buy)
                continue
            text = (
                f"⚠️ 配置文件里新加了团「{buys[index].title}」,编号 {row.buy_id} 和你在群里开的「{buy.title}」重复了。"
                f"现在仍按群里开的算,文件里的这个团没有生效;请在配置文件里给它换个编号。"
            )
            conflicts.append(Conflict(row.buy_id, row.made_by, text))
            buys[index] = buy
            continue
        if index is None:
            text = f"⚠️ 配置文件里已经没有团 {row.buy_id} 了,你在群里对它的改动(截单时间、库存)不再生效。"
            conflicts.append(Conflict(row.buy_id, row.made_by, text))
            continue
        yaml = buys[index]
        now_in_file = plan_fields(yaml)
        for key, base in row.base.items():
            if key == "stock":
                for product, was in (base or {}).items():
                    ours = row.spec.get("stock", {}).get(product)
                    if now_in_file["stock"].get(product) != was and ours is not None:
                        text = (
                            f"⚠️ 配置文件把「{yaml.title}」{product}的库存改成了{now_in_file['stock'].get(product)},"
                            f"你在群里改的是{ours},现在仍按{ours}算;要按文件的,发「库存 {product} 数量」。"
                        )
                        conflicts.append(Conflict(row.buy_id, row.made_by, text))
            elif now_in_file.get(key) != base and key in row.spec:
                what = {"opens": "开团时间", "cutoff": "截单时间"}[key]
                text = (
                    f"⚠️ 配置文件把「{yaml.title}」的{what}改成了{_said(now_in_file.get(key), plan)},"
                    f"你在群里改的是{_said(row.spec[key], plan)},现在仍按群里的算"
                    + (";要按文件的,发「延长截单 时间」。" if key == "cutoff" else "。")
                )
                conflicts.append(Conflict(row.buy_id, row.made_by, text))
        buys[index] = changed_buy(yaml, row.spec)
    return plan.model_copy(update={"buys": buys, "catalogue": catalogue}), conflicts


async def load_rows(db: Database) -> list[ChatBuy]:
    async with db.sessions() as session:
        return list(await session.scalars(select(ChatBuy).order_by(ChatBuy.created_at, ChatBuy.buy_id)))


async def stored_plan(plan: Config, url: str) -> Config:
    """The plan with the chat changes a store at `url` holds (`tuanbot schedule`); the plan alone without a store."""
    if await missing_store(url) is not None:
        return plan
    db = Database(url)
    try:
        await db.open()
        config, _ = layer(plan, await load_rows(db))
    finally:
        await db.close()
    return config


async def apply_chat_changes(services: Services) -> list[Conflict]:
    """Make `services.config` the plan (`services.plan`, the YAML) with chat's changes on it; tell each conflict to
    the leader who made the change, privately and once (the outbound key)."""
    if services.plan is None:
        services.plan = services.config
    plan = services.plan
    config, conflicts = layer(plan, await load_rows(services.db))
    if config.catalogue != services.config.catalogue:
        services.chain.forget_config()  # a product chat brought in: the matcher learns it
    services.config = config
    services.groups.config = config
    for conflict in conflicts:
        digest = hashlib.sha1(conflict.text.encode()).hexdigest()[:12]
        log.warning("plan_conflict", buy=conflict.buy_id, leader_id=conflict.made_by, text=conflict.text)
        await services.sender.enqueue(
            Outbound(conflict.made_by, conflict.text),
            group=None,
            kind="reply",
            key=f"plan_conflict:{conflict.buy_id}:{digest}",
        )
    return conflicts


async def save_plan_change(services: Services, buy: Buy, change: dict[str, Any], made_by: str) -> None:
    """Chat changed fields of `buy` (a YAML buy, or one made in chat): stored, then layered again by the caller."""
    now = services.clock.now()
    async with services.db.transaction() as session:
        row = await session.get(ChatBuy, buy.id)
        if row is not None and row.origin == "chat":
            spec = dict(row.spec)
            for key in ("opens", "cutoff"):
                if key in change:
                    spec[key] = change[key]
            if "stock" in change:
                spec["items"] = [
                    {**item, "stock": change["stock"].get(item["product"], item.get("stock"))} for item in spec["items"]
                ]
            row.spec, row.updated_at = spec, now
            return
        yaml = services.plan.buy(buy.id) if services.plan is not None else None
        fields = plan_fields(yaml) if yaml is not None else {}
        if row is None:
            row = ChatBuy(buy_id=buy.id, origin="plan", spec={}, base={}, products=[], made_by=made_by, created_at=now)
            session.add(row)
        spec, base = dict(row.spec), dict(row.base)
        for key, value in change.items():
            if key == "stock":
                spec["stock"] = {**spec.get("stock", {}), **value}
                base["stock"] = {**{p: fields.get("stock", {}).get(p) for p in value}, **base.get("stock", {})}
            else:
                spec[key] = value
                base.setdefault(key, fields.get(key))
        row.spec, row.base, row.made_by, row.updated_at = spec, base, made_by, now


async def save_chat_buy(services: Services, spec: dict[str, Any], products: list[dict[str, Any]], made_by: str) -> None:
    now = services.clock.now()
    async with services.db.transaction() as session:
        session.add(
            ChatBuy(
                buy_id=spec["id"],
                origin="chat",
                spec=spec,
                base={},
                products=products,
                made_by=made_by,
                created_at=now,
                updated_at=now,
            )
        )
