"""How the bot itself behaves and connects: its name, sending limits, answers, and the backend and WeChat links."""

from __future__ import annotations

import datetime as dt
import string
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from bot.config.section import Section
from bot.config.values import Duration, SendSpacing, one_or_many


class BotSettings(Section):
    name: str = Field(default="小团", min_length=1, description="members @ the bot by this name")


class Limits(Section):
    """The one sender's limits (anti-ban)."""

    per_group_per_minute: int = Field(default=6, ge=1)
    per_account_per_minute: int = Field(default=20, ge=1)
    same_text_window: Duration = dt.timedelta(minutes=10)
    send_spacing: SendSpacing = Field(default=(0.3, 1.2), description='random pause between two sends, "0.3s-1.2s"')


class FaqEntry(Section):
    question: Annotated[list[str], BeforeValidator(one_or_many), Field(min_length=1)]
    answer: str


class ChainSettings(Section):
    """How the bot confirms 接龙 orders (an extra section; the contract does not name it)."""

    digest_every: Duration = dt.timedelta(minutes=3)  # at most one confirmation digest per group this often
    max_lines: int = Field(default=1000, ge=1, description="lines of one 接龙 message read; the rest are refused")
    max_orders_per_member: int = Field(
        default=20, ge=1, description="new orders one member's messages may make in one buy; the rest are refused"
    )
    free_text_orders: Literal["record", "hint", "off"] = Field(
        default="record",
        description="`+1` / `我要两盒草莓` outside the 接龙: record it as an order, answer with a hint, or ignore it",
    )

    @field_validator("free_text_orders", mode="before")
    @classmethod
    def _off_unquoted(cls, value: object) -> object:
        return "off" if value is False else value  # YAML reads a bare `off` as false


DEFAULT_AFTER_SALES = "抱歉给您添麻烦了!请把{what}的照片发到群里,写明数量,团长核实后给您补发或退款。"


class QuestionSettings(Section):
    """How the bot answers members (an extra section)."""

    after_sales: str = Field(
        default=DEFAULT_AFTER_SALES, min_length=1, description="the reply to a complaint; {what} = product"
    )
    when_unsure: Literal["silence", "leader_note"] = Field(
        default="silence", description="a question the bot is not sure of: say nothing, or ask the leader in the group"
    )

    @field_validator("after_sales")
    @classmethod
    def _only_what(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"bad placeholder: {exc}") from None
        if names - {"what"}:
            raise ValueError(f"unknown placeholder {{{sorted(names - {'what'})[0]}}}; use {{what}} (the product)")
        return value


class BackendSync(Section):
    """Where order changes are sent (an extra section): the token comes from TUANBOT_BACKEND_TOKEN, never the file."""

    url: str = Field(min_length=1, description="the backend's base URL, e.g. http://127.0.0.1:8080")


class WeChat(Section):
    endpoint: str | None = None
    token: str | None = None
