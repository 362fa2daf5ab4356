"""Bare python-wechaty echo bot: the e2e smoke client and the latency baseline.

It replies to every room text message with the same text prefixed ``echo:``, ignores its own
messages and prints nothing to stdout. Connect it to the test gateway with the two variables
python-wechaty reads::

    WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:<grpc port>
    WECHATY_PUPPET_SERVICE_TOKEN=<token>

Set ``E2E_TRACE=1`` to get one line per event on stderr (``TRACE {"t": <time.time()>, "event": ..., "args": [...]}``),
which the e2e tests use to watch logins, logouts and non-text messages. python-wechaty's own
logging goes to stderr as well (level from ``WECHATY_LOG``: silly/verbose/info/warn/error/silent).

Needs, on Python 3.11: ``wechaty==0.10.7`` with ``pyee<12`` and ``urllib3<2`` (see
``tests/e2e/requirements-wechaty.txt``). It runs in its own working directory because wechaty
writes ``.wechaty/`` there.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

# python-wechaty 0.10.7 vs Python 3.11: PuppetOptions is a dataclass with a mutable default that
# 3.11 rejects unless it is hashable. Must run before `import wechaty`.
from wechaty_puppet.schemas.puppet import PuppetOptions

PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment]

from wechaty import Wechaty  # noqa: E402
from wechaty.user import Contact, Message, Room  # noqa: E402
from wechaty_puppet import MessageType  # noqa: E402

TRACE = os.environ.get("E2E_TRACE") == "1"


def trace(event: str, *fields: Any) -> None:
    if TRACE:
        line = "TRACE " + json.dumps({"t": time.time(), "event": event, "args": list(fields)}, ensure_ascii=False)
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


class EchoBot(Wechaty):
    async def on_login(self, contact: Contact) -> None:
        trace("login", contact.contact_id)

    async def on_logout(self, contact: Contact) -> None:
        trace("logout", contact.contact_id)

    async def on_ready(self, payload: object) -> None:
        trace("ready")

    async def on_error(self, payload: object) -> None:
        trace("error", str(payload))

    async def on_room_join(self, room: Room, invitees: list, inviter: Contact, date: object) -> None:
        trace("room-join", room.room_id, [c.contact_id for c in invitees], inviter.contact_id)

    async def on_room_invite(self, room_invitation: object) -> None:
        inv_id = getattr(room_invitation, "invitation_id", None)
        trace("room-invite", inv_id)
        if os.environ.get("E2E_ACCEPT_INVITES") == "1":
            # python-wechaty 0.10.7 bug: RoomInvitation.load() builds the base class, which has no puppet
            # ("puppet not set" on accept()); the bot-bound subclass self.RoomInvitation works.
            await self.RoomInvitation(inv_id).accept()
            trace("room-invite-accepted", inv_id)

    async def on_room_topic(self, room: Room, new_topic: str, old_topic: str, changer: Contact, date: object) -> None:
        trace("room-topic", room.room_id, new_topic, old_topic, changer.contact_id)

    async def on_message(self, msg: Message) -> None:
        room = msg.room()
        trace(
            "message",
            msg.message_id,
            int(msg.type()),
            msg.type().name,
            room.room_id if room else None,
            msg.talker().contact_id,
            msg.is_self(),
            msg.text(),
        )
        if msg.is_self() or room is None:
            return
        if msg.type() != MessageType.MESSAGE_TYPE_TEXT:
            return
        await room.say("echo:" + msg.text())


async def main() -> None:
    bot = EchoBot()
    await bot.start()
    trace("start-returned")


if __name__ == "__main__":
    asyncio.run(main())
