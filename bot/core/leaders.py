"""Who may run leader commands. `leaders:` lists wxids and display names; a display name can be copied (a member
renamed 张姐 must not run 截单), so a name is bound to the wxid that first uses it as a leader, persisted, and a
different wxid under that name is refused — and the bound leader is told privately, once per impostor."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.events import Inbound, Outbound
from bot.logs import get_logger
from storage.db import Database
from storage.models import LeaderBinding

if TYPE_CHECKING:
    from bot.config import Group
    from bot.sender import Sender


def listed(group: Group, event: Inbound) -> bool:
    """The sender is under the group's `leaders:` by wxid or by display name (a claim, until `confirm`)."""
    return event.sender_id in group.leaders or event.sender_name in group.leaders


class LeaderRegistry:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._bound: dict[str, str] = {}  # display name → the wxid it is bound to
        self._ids: set[str] = set()  # `leaders:` entries seen running a command as a wxid
        self.log = get_logger("tuanbot.leaders")

    async def load(self) -> None:
        async with self.db.sessions() as session:
            rows = (await session.execute(select(LeaderBinding.name, LeaderBinding.wxid))).all()
        self._bound = {name: wxid for name, wxid in rows}

    def reachable(self, group: Group) -> list[str]:
        """The wxids the group's leaders can be told privately at: a `leaders:` entry that is a wxid (`wxid_…`, or
        one that ran a command as itself), and a display name bound to its wxid (once it ran a command)."""
        found = [
            self._bound.get(entry) or (entry if entry.startswith("wxid_") or entry in self._ids else "")
            for entry in group.leaders
        ]
        return list(dict.fromkeys(w for w in found if w))

    async def confirm(self, group: Group, event: Inbound, now: datetime, sender: Sender, command: str) -> bool:
        """Whether the sender is the group's leader for `command`: listed by wxid, or by a display name bound to
        their wxid (bound now if the name is free). A refused impostor's bound leader is told privately."""
        if event.sender_id in group.leaders:
            self._ids.add(event.sender_id)
            return True
        name = event.sender_name
        if name not in group.leaders:
            return False
        bound = self._bound.get(name) or await self._bind(name, event.sender_id, now)
        if bound == event.sender_id:
            return True
        self.log.warning("leader_refused", name=name, member_id=event.sender_id, bound_to=bound, command=command)
        text = f"⚠️ 有人改成了你的名字「{name}」,想用团长命令「{command}」,已拒绝。对方微信号:{event.sender_id}"
        await sender.enqueue(Outbound(bound, text), group=None, kind="reply", key=f"impostor:{name}:{event.sender_id}")
        return False

    async def _bind(self, name: str, wxid: str, now: datetime) -> str:
        """Bind `name` to `wxid` unless another process bound it first; returns the wxid it is bound to."""
        async with self.db.transaction() as session:
            await session.execute(
                self.db.insert(LeaderBinding)
                .values(name=name, wxid=wxid, bound_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            bound = await session.scalar(select(LeaderBinding.wxid).where(LeaderBinding.name == name))
        assert bound is not None
        self._bound[name] = bound
        if bound == wxid:
            self.log.info("leader_bound", name=name, member_id=wxid)
        return bound
