"""What is sold and where: the catalogue, the groups, and the buys (接龙) with their items and ladders."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator, model_validator

from bot.config.section import JobKey, Section, at_field
from bot.config.values import AwareDatetime, GroupsSpec, Price, one_or_many


class Product(Section):
    name: str = Field(min_length=1)
    aliases: Annotated[list[str], BeforeValidator(one_or_many)] = []
    unit: str = Field(min_length=1)
    price: Price
    spec: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class Pickup(Section):
    place: str
    time: str


class Group(Section):
    name: str = Field(min_length=1, description="matched against the room topic")
    room_id: str | None = None
    leaders: Annotated[list[str], BeforeValidator(one_or_many), Field(description="display names or wxids")] = []
    pickup: Pickup | None = None

    @field_validator("leaders")
    @classmethod
    def _someone_leads(cls, value: list[str]) -> list[str]:
        # Only a list written out is checked: `leaders: []` names nobody, so nobody could run 汇总 or 导出 here.
        if not [name for name in value if name.strip()]:
            raise ValueError("names nobody, so nobody can run 汇总 or 导出 in this group: give a leader's name or wxid")
        return value


class BuyItem(Section):
    product: str
    price: Price | None = Field(default=None, description="defaults to the catalogue price")
    stock: int | None = Field(default=None, ge=0)
    unit: str | None = Field(default=None, description="defaults to the catalogue unit")


class LadderTier(Section):
    members: int = Field(ge=1)
    price: Price


class Buy(Section):
    id: JobKey
    title: str
    groups: GroupsSpec
    items: list[BuyItem] = Field(min_length=1)
    opens: AwareDatetime | None = None
    cutoff: AwareDatetime | None = None
    arrival: AwareDatetime | None = None
    min_members: int | None = Field(default=None, ge=1)
    ladder: list[LadderTier] = []
    example: str | None = Field(default=None, description="the 例 line the leader wants shown")

    @model_validator(mode="after")
    def _consistent(self) -> Buy:
        if self.opens and self.cutoff and self.cutoff <= self.opens:
            raise at_field(
                "cutoff", f"cutoff {self.cutoff:%Y-%m-%d %H:%M} is not after opens {self.opens:%Y-%m-%d %H:%M}"
            )
        for i in range(1, len(self.ladder)):
            if self.ladder[i].members <= self.ladder[i - 1].members:
                raise at_field(("ladder", i, "members"), "ladder tiers must have strictly increasing members")
        return self
