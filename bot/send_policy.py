"""How the sender paces itself: its limits, the per-group and per-account send windows, the same-text window and
the kinds that wait out quiet hours. In the shared state (Redis when processes share one), in process when it fails."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.logs import get_logger
from storage.shared_state import MemoryState, SharedState

#: kinds that never go out inside quiet hours (the contract: "no nudges and no reminders inside this window")
QUIET_KINDS = frozenset({"nudge", "reminder"})
#: a leader's own command's post to a group (`开团`'s header, `截单`'s summary, `到货`): the leader's decision, so it
#: goes out even where they paused the bot; the scheduler's posts of the same texts are `buy_open`, `cutoff`, `arrival`
LEADER_POST = "leader_post"
#: kinds that still go out in a group its leader paused (`暂停`): the answers to the leader's own commands and the
#: posts they make (docs/decisions.md); the bot's own posts, answers and digests wait for `恢复`
LEADER_KINDS = frozenset({"summary", "file", LEADER_POST})
#: kinds that answer a person's own message (a question, a 接龙 line, a leader's command): the same-text window never
#: holds them back, because the person asked and is waiting (a leader's second `汇总` within minutes gets its answer).
#: Scheduled posts and fixed notices keep the window; replies neither wait on it nor claim it. Nor do the notices
#: rendered at send time (`Sender.render_with`: the chain digest, the flash digest and wait-list notice): they say
#: something only when it is news to the group (the told marks, `bot.domain.told`), so the same text again means the
#: state went back and forth (`✅ 已记录:老周 草莓1盒`, a cancel, the same re-order) and the group must hear it; they
#: come at most once per `chain.digest_every` and within the rate limits.
REPLY_KINDS = frozenset({"reply", "summary"})
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class SenderLimits:
    per_group_per_minute: int = 6
    per_account_per_minute: int = 20
    same_text_window: timedelta = timedelta(minutes=10)
    spacing: tuple[float, float] = (0.3, 1.2)  # seconds of random pause between two sends (anti-ban)


class Slots:
    """The per-group and per-account windows, kept in the shared state (Redis when processes share one). If the
    shared state fails, the sender keeps going on in-process windows and says so once."""

    def __init__(self, shared: SharedState | None) -> None:
        self.shared = shared
        self.local = MemoryState()
        self._down = False
        self.log = get_logger("tuanbot.sender")

    async def take(self, keys: list[str], limits: list[int], now: datetime) -> float:
        ts = now.timestamp()
        if self.shared is not None and not isinstance(self.shared, MemoryState):
            try:
                wait = await self.shared.take_slots(keys, limits, MINUTE.total_seconds(), ts)
            except Exception as exc:  # redis errors, timeouts: limits stay, counted in this process
                if not self._down:
                    self.log.warning("redis_unavailable", part="sender", error=repr(exc)[:200], fallback="memory")
                self._down = True
            else:
                if self._down:
                    self.log.info("redis_recovered", part="sender")
                    self._down = False
                return wait
        return await self.local.take_slots(keys, limits, MINUTE.total_seconds(), ts)


@dataclass
class RecentTexts:
    """What each room was told lately, for the same-text window: in the shared state (one claim per room and text,
    expiring with the window), in process when the shared state fails."""

    shared: SharedState | None
    local: MemoryState = field(default_factory=MemoryState)

    @staticmethod
    def _key(room_id: str, text: str) -> str:
        return "said:" + hashlib.sha1(f"{room_id}\\n{text}".encode()).hexdigest()

    async def claim(self, room_id: str, text: str, now: datetime, window: timedelta) -> bool:
        """True when nothing identical was said to the room inside the window (and it is now claimed)."""
        if window <= timedelta(0):
            return True
        key = self._key(room_id, text)
        if self.shared is not None and not isinstance(self.shared, MemoryState):
            try:
                return await self.shared.claim(key, now.timestamp(), window.total_seconds())
            except Exception:  # redis down: the window holds in this process
                pass
        return await self.local.claim(key, now.timestamp(), window.total_seconds())

    async def release(self, room_id: str, text: str) -> None:
        key = self._key(room_id, text)
        for state in (self.shared, self.local):
            if state is not None:
                try:
                    await state.release(key)
                except Exception:
                    continue
