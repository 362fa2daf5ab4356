"""What the rest of the bot needs from a channel: a way to say an `Outbound`. Inbound events are pushed to the app."""

from __future__ import annotations

from typing import Protocol

from bot.events import Outbound


class Channel(Protocol):
    async def send(self, out: Outbound) -> None:
        """Say `out` in its room. Raises when the message could not be handed over (the sender retries)."""
        ...


class ChannelSendError(Exception):
    """The channel could not deliver a message now; the sender keeps it queued and tries again."""
