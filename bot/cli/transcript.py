"""The transcript format `tuanbot replay` plays (docs/replay.md): JSON lines in time order, one message each.

A group message: `{"at": ISO, "group": NAME, "sender": NAME, "text": STR}` with optional `"sender_id"` (a wxid;
default derived from the name), `"id"` (default the line number; a repeated id is a redelivery), `"mentions"` (display
names) and `"type"` (`"native"`: the text is a native 接龙 card's XML). A private message to the bot:
`{"at": ISO, "private": true, "sender": NAME, "text": STR}`. Reading is pure: a bad line is a `TranscriptError`
naming its line, nothing is played.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

KEYS = frozenset({"at", "group", "private", "sender", "sender_id", "text", "id", "mentions", "type"})
TYPES = ("text", "native")


@dataclass(frozen=True)
class Event:
    """One transcript line: a member (or the leader) saying something, in a group or privately to the bot."""

    line: int
    at: datetime
    sender: str
    text: str
    group: str | None = None  # None: a private message to the bot
    sender_id: str | None = None
    msg_id: str | None = None
    mentions: tuple[str, ...] = ()
    native: bool = False

    @property
    def private(self) -> bool:
        return self.group is None

    @property
    def wxid(self) -> str:
        return self.sender_id or derived_wxid(self.sender)

    @property
    def id(self) -> str:
        return self.msg_id or str(self.line)

    def to_json(self) -> dict[str, Any]:
        """The line as written back (the demo's script is saved this way)."""
        row: dict[str, Any] = {"at": self.at.isoformat()}
        row.update({"private": True} if self.group is None else {"group": self.group})
        row["sender"] = self.sender
        for key, value in (("sender_id", self.sender_id), ("id", self.msg_id)):
            if value is not None:
                row[key] = value
        if self.mentions:
            row["mentions"] = list(self.mentions)
        if self.native:
            row["type"] = "native"
        row["text"] = self.text
        return row


class TranscriptError(ValueError):
    """A line the format does not allow: `FILE:LINE: message`."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def derived_wxid(name: str) -> str:
    """A sender's wxid when the transcript gives none: stable for a name across runs and files."""
    return "wxid_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]


def read_transcript(
    path: Path, *, tz: tzinfo, groups: Sequence[str], lines: Iterable[str] | None = None
) -> list[Event]:
    """Every event of the file, checked: JSON objects, known keys, a time (naive = `tz`) not before the line above,
    a configured group (or `"private": true`), a sender and a text. Blank lines are skipped."""
    name = str(path)
    events: list[Event] = []
    source = lines if lines is not None else path.read_text(encoding="utf-8").splitlines()
    for number, raw in enumerate(source, 1):
        if not raw.strip():
            continue
        event = parse_line(name, number, raw, tz=tz, groups=groups)
        if events and event.at < events[-1].at:
            raise TranscriptError(
                name, number, f"at: {event.at.isoformat()} is before the line above ({events[-1].at.isoformat()})"
            )
        events.append(event)
    return events


def parse_line(path: str, number: int, raw: str, *, tz: tzinfo, groups: Sequence[str]) -> Event:
    def fail(message: str) -> TranscriptError:
        return TranscriptError(path, number, message)

    try:
        row = json.loads(raw)
    except ValueError as exc:
        raise fail(f"not a JSON object ({exc.args[0] if exc.args else exc})") from None
    if not isinstance(row, dict):
        raise fail('not a JSON object: each line is one message, {"at": …, "group": …, "sender": …, "text": …}')
    unknown = sorted(set(row) - KEYS)
    if unknown:
        raise fail(f"{unknown[0]}: unknown key (known: {', '.join(sorted(KEYS))})")
    for key in ("at", "sender", "text"):
        if key not in row:
            raise fail(f"{key}: missing")
    at = _time(row["at"], tz)
    if at is None:
        raise fail(f"at: not an ISO time: {row['at']!r} (e.g. 2026-12-01T09:31:00+08:00)")
    sender, text = row["sender"], row["text"]
    if not isinstance(sender, str) or not sender.strip():
        raise fail("sender: a display name (a non-empty string)")
    if not isinstance(text, str):
        raise fail("text: a string")
    private = row.get("private", False)
    if not isinstance(private, bool):
        raise fail("private: true or false")
    group = row.get("group")
    if private:
        if group is not None:
            raise fail('a private message has no group: drop "group" or "private"')
    elif group is None:
        raise fail('group: missing (a group message names its group; a private one says "private": true)')
    elif group not in groups:
        raise fail(f"group: {group!r} is not a configured group ({', '.join(groups) or 'none configured'})")
    for key in ("sender_id", "id"):
        value = row.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()) and not _is_int(value):
            raise fail(f"{key}: a non-empty string")
    mentions = row.get("mentions", [])
    if not isinstance(mentions, list) or not all(isinstance(m, str) and m for m in mentions):
        raise fail('mentions: a list of display names, e.g. ["小团"]')
    kind = row.get("type", "text")
    if kind not in TYPES:
        raise fail(f"type: {kind!r} is not one of {', '.join(TYPES)}")
    return Event(
        line=number,
        at=at,
        sender=sender.strip(),
        text=text,
        group=None if private else group,
        sender_id=_str(row.get("sender_id")),
        msg_id=_str(row.get("id")),
        mentions=tuple(mentions),
        native=kind == "native",
    )


def parse_time(value: str, tz: tzinfo) -> datetime | None:
    """An ISO time (`2026-12-01T09:31:00+08:00`, `2026-12-01 09:31`); naive means the config's zone."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _time(value: Any, tz: tzinfo) -> datetime | None:
    return parse_time(value, tz) if isinstance(value, str) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str(value: Any) -> str | None:
    return None if value is None else str(value).strip()


def write_transcript(events: Iterable[Event]) -> str:
    return "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in events)
