"""The tables: what the bot knows for certain. Every order traces back to the chain line and message it came from."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class Group(Base):
    """A served WeChat room. `room_id` is learnt the first time the room is seen, so a renamed room stays served."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    room_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    topic: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # a leader's 暂停


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("group_id", "wxid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    wxid: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class MessageLog(Base):
    """Every inbound message, stored before it is handled. `handled_at` is set only when every handler has run."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(200), unique=True)
    room_id: Mapped[str] = mapped_column(String(200), index=True)
    room_topic: Mapped[str] = mapped_column(String(500))
    sender_id: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    ts: Mapped[datetime]
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # one-to-one with the bot


class LeaderBinding(Base):
    """A leader named by display name in the config, bound to the wxid that first used the name as a leader."""

    __tablename__ = "leader_bindings"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    wxid: Mapped[str] = mapped_column(String(200))
    bound_at: Mapped[datetime]


class GroupBuy(Base):
    """A 团购 from the config (its id is the config's buy id); rows are refreshed from the config at start."""

    __tablename__ = "group_buys"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    opens: Mapped[datetime | None]
    cutoff: Mapped[datetime | None]
    min_members: Mapped[int | None]
    closed_at: Mapped[datetime | None]


class ChainLine(Base):
    """One entry of a 接龙 list, identified by its content (never its number) within a buy and group."""

    __tablename__ = "chain_lines"
    __table_args__ = (UniqueConstraint("buy_id", "group_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    buy_id: Mapped[str] = mapped_column(ForeignKey("group_buys.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    key: Mapped[str] = mapped_column(String(1000))
    raw: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(500))
    author_id: Mapped[str | None] = mapped_column(String(200))  # wxid of the member whose message first held the line
    first_msg_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # active | replaced | cancelled | late
    created_at: Mapped[datetime]


class Order(Base):
    """What one chain line orders. A member's second line is a second order."""

    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    buy_id: Mapped[str] = mapped_column(ForeignKey("group_buys.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    chain_line_id: Mapped[int] = mapped_column(ForeignKey("chain_lines.id"), unique=True)
    participant: Mapped[str] = mapped_column(String(500))  # the label as written: "3栋 王阿姨"
    remark: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))  # active | waiting (past the stock) | cancelled
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # +1 on every change (sync)
    digested_version: Mapped[int | None]  # the version the group was last told about in a digest (None: never)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id", lazy="selectin"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    chain_line_id: Mapped[int] = mapped_column(ForeignKey("chain_lines.id"))
    product: Mapped[str] = mapped_column(String(200))
    known: Mapped[bool] = mapped_column(Boolean)
    qty: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit: Mapped[str | None] = mapped_column(String(20))
    order: Mapped[Order] = relationship(back_populates="lines")


class OutboundMessage(Base):
    """The sender's persisted queue: queued before a crash, sent after the restart, once."""

    __tablename__ = "outbound"
    __table_args__ = (Index("ix_outbound_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    file: Mapped[str | None] = mapped_column(Text)  # a file to send (its path), `text` then names it
    kind: Mapped[str] = mapped_column(String(40))  # reply | digest | summary | column | nudge | reminder | …
    key: Mapped[str | None] = mapped_column(String(300), unique=True)  # idempotency key of whoever queued it
    coalesce_key: Mapped[str | None] = mapped_column(String(300), index=True)  # a queued row with it is updated
    status: Mapped[str] = mapped_column(String(20))  # queued | sent | suppressed
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class StockCounter(Base):
    """Units left of a buy item or a flash sale, taken atomically (`UPDATE … WHERE left >= n RETURNING`)."""

    __tablename__ = "stock_counters"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "buy:{buy}:{product}" | "flash:{sale}"
    total: Mapped[int]
    left: Mapped[int]


class FlashClaim(Base):
    """A member's go at a flash sale: confirmed while units last, then waiting in arrival order."""

    __tablename__ = "flash_claims"
    __table_args__ = (Index("ix_flash_claims_sale_status_id", "sale_id", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[str] = mapped_column(String(100))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    wxid: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))  # confirmed | waiting | cancelled
    msg_id: Mapped[str] = mapped_column(String(200), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    told_status: Mapped[str | None] = mapped_column(String(20))  # the status the group was last told of (None: never)


class SyncOutbox(Base):
    """Order changes on their way to the leader's backend, written in the order's own transaction."""

    __tablename__ = "sync_outbox"
    __table_args__ = (Index("ix_sync_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)  # "order:{id}:v{version}"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class BackendOrder(Base):
    """The backend service's copy of an order: the latest version it was sent."""

    __tablename__ = "backend_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), unique=True)  # the sender's order id, or the idempotency key
    version: Mapped[int] = mapped_column(Integer, default=1)
    group: Mapped[str] = mapped_column(String(200), index=True)
    buy: Mapped[str] = mapped_column(String(100), index=True)
    member: Mapped[str] = mapped_column(String(200))
    participant: Mapped[str] = mapped_column(String(500))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    remark: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))  # active | waiting | cancelled
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BackendRequest(Base):
    """An `Idempotency-Key` the backend has answered, with the answer to give again."""

    __tablename__ = "backend_requests"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class ChatBuy(Base):
    """A buy a leader created or changed in chat (issue #15), layered on the YAML plan whenever the config is
    applied (`bot.domain.overlay`): the YAML stays the plan, this row is what chat changed on it."""

    __tablename__ = "chat_buys"
    buy_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    origin: Mapped[str] = mapped_column(String(10))  # chat: made in chat | plan: a change to a buy of the YAML
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # chat: the whole buy | plan: the fields chat changed
    base: Mapped[dict[str, Any]] = mapped_column(JSON)  # plan: the YAML's values of those fields, when changed
    products: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # catalogue entries the buy brought with it
    made_by: Mapped[str] = mapped_column(String(200))  # the leader's wxid: told privately of a conflict
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Payment(Base):
    """What a participant of a buy has paid, as a leader marked it (`已收 3栋王阿姨`, issue #15): one row per buy,
    group and participant label (the label as the orders carry it). `paid` is the money received in all; an order
    changed after paying leaves it as it is, and the difference is still owed."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("buy_id", "group_id", "participant"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    buy_id: Mapped[str] = mapped_column(ForeignKey("group_buys.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    participant: Mapped[str] = mapped_column(String(500))
    paid: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_at: Mapped[datetime]
    marked_by: Mapped[str] = mapped_column(String(200))  # the wxid of the leader who marked it
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # +1 on every change (sync)


class BackendPayment(Base):
    """The backend service's copy of a payment: the latest version the bot sent (`POST /api/payments`)."""

    __tablename__ = "backend_payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), unique=True)  # the bot's payment id: `payment:{id}`
    version: Mapped[int] = mapped_column(Integer, default=1)
    group: Mapped[str] = mapped_column(String(200))
    buy: Mapped[str] = mapped_column(String(100), index=True)
    participant: Mapped[str] = mapped_column(String(500))
    paid: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    updated_at: Mapped[datetime]
