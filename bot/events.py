"""The channel seam: what every channel turns its messages into, and what it is asked to send."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Kind(enum.StrEnum):
    TEXT = "text"
    NATIVE_CHAIN = "native_chain"  # WeChat's native 接龙 card (app message type 53), raw XML in `text`
    OTHER = "other"  # images, stickers, links…: logged, never parsed


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as the bot sees it, whatever channel brought it."""

    msg_id: str
    room_id: str
    room_topic: str
    sender_id: str
    sender_name: str
    text: str
    ts: datetime
    kind: Kind = Kind.TEXT
    mentions: tuple[str, ...] = ()
    is_self: bool = False  # the bot's own account said it
    # A private (one-to-one) message to the bot: `room_id` is then the conversation, the sender's contact id, and
    # `room_topic` is empty. Only leaders are served in private (bot.dispatch).
    private: bool = False


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message the bot wants said in a conversation: a room, or one person (`room_id` is then their contact
    id). With `file`, the message is that file (its path; `text` names it in logs and transcripts). Only the sender
    hands these to a channel."""

    room_id: str
    text: str
    mentions: tuple[str, ...] = field(default=())
    file: str | None = None
