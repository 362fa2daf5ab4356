"""What the bot does with what the live channel reports about rooms: messages, invitations, joins, renames."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import Inbound, Outbound
from bot.logs import get_logger

if TYPE_CHECKING:
    from bot.app import App

GREETING = "大家好,我是{name},本群的团购小助手~接龙下单我会自动登记,有问题可以@我。"


class RoomPolicy:
    """What the bot does with what the channel reports: messages go to the app, invitations are accepted from
    leaders only, a served room the bot lands in is greeted once, and a renamed room stays served."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.services = app.services
        self.log = get_logger("tuanbot.rooms")

    def inbound(self, event: Inbound) -> None:
        self.app.submit(event)

    async def logged_in(self, self_id: str) -> None:
        self.services.self_id = self_id
        # a login after an outage follows a time the bot heard nothing, and the gateway replays none of it: the chains
        # are read from the store again, so the next copies heal what was missed as after a restart (chain_caps)
        self.services.chain.states.clear()

    def _leads(self, inviter_id: str, inviter_name: str) -> list[str]:
        return [g.name for g in self.services.config.groups if inviter_id in g.leaders or inviter_name in g.leaders]

    async def invited(self, topic: str, inviter_id: str, inviter_name: str) -> bool:
        groups = self._leads(inviter_id, inviter_name)
        if not groups:
            self.log.info("room_invitation_declined", topic=topic, inviter=inviter_name, reason="not_a_leader")
            return False
        self.log.info("room_invitation_accepted", topic=topic, inviter=inviter_name, leader_of=groups)
        return True

    async def joined(self, room_id: str, topic: str, inviter_id: str, inviter_name: str) -> None:
        group = await self.services.groups.resolve(room_id, topic)
        if group is None:
            self.log.warning(
                "room_joined_unserved",
                room=room_id,
                topic=topic,
                inviter=inviter_name,
                hint="add it under groups: in the config (name = the topic, or room_id) to serve it",
            )
            return
        self.log.info("room_joined", group=group.name, room=room_id, topic=topic, inviter=inviter_name)
        text = GREETING.format(name=self.services.config.bot.name)
        await self.services.sender.enqueue(
            Outbound(room_id, text), group=group.name, kind="greeting", key=f"greet:{room_id}"
        )

    async def left(self, room_id: str, topic: str) -> None:
        self.log.warning("room_left", room=room_id, topic=topic)

    async def renamed(self, room_id: str, topic: str, old_topic: str) -> None:
        groups = self.services.groups
        # A served room renamed before the bot heard anything in it: bind it by its old name first, so it is then
        # known by id and keeps being served under the new one.
        group = await groups.resolve(room_id, old_topic) if old_topic else None
        group = group or await groups.resolve(room_id, topic)
        self.log.info(
            "room_renamed", room=room_id, topic=topic, old_topic=old_topic, group=group.name if group else None
        )
