"""到货: the leader's "it has arrived" post for a buy in one group — where and when to collect, then the buyers
@-mentioned in batches (a WeChat message can carry only so many @s, and each batch is one more message through the
group's send limits). A buyer whose account the bot does not know (a line healed from a copy) is named in text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.events import Outbound
from bot.send_policy import LEADER_POST
from storage.models import Member, Order

if TYPE_CHECKING:
    from bot.config import Buy, Group
    from bot.core.services import Services

#: @s per message: WeChat clients truncate long mention lists, and a short batch reads as a roll call, not spam
MENTIONS_PER_MESSAGE = 20


@dataclass(frozen=True)
class Buyer:
    label: str  # as written in the 接龙: "3栋 王阿姨"
    wxid: str | None


async def buyers(services: Services, buy: Buy, group: str) -> list[Buyer]:
    """The buy's active orders in `group`, one per buyer (first order first), with the account when known."""
    async with services.db.sessions() as session:
        rows = (
            await session.execute(
                select(Order.participant, Member.wxid)
                .outerjoin(Member, Member.id == Order.member_id)
                .where(Order.buy_id == buy.id, Order.group_id == services.groups.id_of(group))
                .where(Order.status == "active")
                .order_by(Order.id)
            )
        ).all()
    seen: dict[str, Buyer] = {}
    for label, wxid in rows:
        key = wxid or label.strip()
        seen.setdefault(key, Buyer(label.strip(), wxid))
    return list(seen.values())


def arrival_text(buy: Buy, group: Group) -> str:
    pickup = f"\n自提:{group.pickup.place},{group.pickup.time}" if group.pickup else ""
    return f"📦 {buy.title} 到货啦!{pickup}\n请下面@到的邻居按时来取~"


async def queue_arrival(services: Services, buy: Buy, group: Group, room: str, msg_id: str) -> int:
    """Queue the arrival post and the @ batches in `room`; returns how many buyers it names."""
    people = await buyers(services, buy, group.name)
    texts: list[tuple[str, tuple[str, ...]]] = [(arrival_text(buy, group), ())]
    known = [b for b in people if b.wxid]
    batches = [known[i : i + MENTIONS_PER_MESSAGE] for i in range(0, len(known), MENTIONS_PER_MESSAGE)]
    for n, batch in enumerate(batches, 1):  # numbered: identical texts would fall to the same-text window
        label = f"({n}/{len(batches)})" if len(batches) > 1 else ""
        texts.append((f"请来取货{label}~", tuple(b.wxid for b in batch if b.wxid)))
    unknown = [b.label for b in people if not b.wxid]
    if unknown:
        texts.append(("还有:" + "、".join(unknown) + ",请来取货~", ()))
    for i, (text, mentions) in enumerate(texts):
        await services.sender.enqueue(
            Outbound(room, text, mentions=mentions),
            group=group.name,
            kind=LEADER_POST,  # the leader's 到货: said even in a group they paused
            key=f"arrival:{msg_id}:{group.name}:{i}",
        )
    return len(people)
