"""The chaos benchmark's simulated group (`benchmarks/chaos.py`): who says what, what each member really ordered, and
how the store is judged against it. Pure and deterministic from the seed; no process, no clock.

The rules of the simulated group (the truth model):
- One 接龙 (`HEADER` + a numbered list) for the buy `caomei`, in one room. Every member owns exactly one line,
  `<label> 草莓<q>盒`, where the label (`3栋2单元 王阿姨`, `5-1201 李姐`) is unique and names the member.
- The group's list is the lines in join order, each in its owner's current text. A chain message is a full copy:
  the header and every line of the list as the member saw it, numbered 1..n.
- join: the member copies the group's current list and appends their line. race: the member copies the list as it
  was 1-3 chain messages ago (so lines added meanwhile are missing, and lines edited meanwhile show their old text)
  and appends their line. The next copiers take the group's list (everything, the racer's line at the end): a line
  missing from one copy is not a cancellation, and the group's list never loses it.
- edit: the member copies the current list with their own line changed in place (`草莓2盒` → `草莓3盒`); sometimes
  back to the text it had before (1盒 → 4盒 → 1盒). The member now wants the new quantity.
- cancel: the member copies the current list with `取消` appended to their own line (`… 草莓2盒 取消`), or with their
  line emptied to the bare label (`3栋2单元 王阿姨`); both cancel (DESIGN.md: "取消 … a struck-through or emptied own
  line"). The line stays in the list in that form. A cancelled member does nothing more to their line.
- repeat: a member sends their previous chain message's text again (a new message): changes nothing.
  redeliver: the gateway delivers an earlier message again, with the same message id: changes nothing.
  chatter: a member's non-order text; summary: the leader says `汇总`. Neither changes an order.
- final: after the burst, with the bot up, two members each send the group's whole list (the full copy every member
  sees): it holds every line in its final text, so whatever the bot missed while it was down is in front of it.

Truth: each member's last intent, active with quantity q or cancelled; `expected` counts the active ones. The store
is judged per member label (spaces ignored) on its active and waiting orders; each member is one defect at most, in
this order: `wrongly_cancelled` (wants an order, has none active, but one of theirs was cancelled), `lost` (wants an
order, none at all), `duplicated` (more than one active order, or an active order under a label no member has),
`wrong_qty` (one active order, other quantity), `cancel_missed` (cancelled, but an active order is left).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

HEADER = "#接龙 周六丹东草莓团\n草莓 39.9元/盒"
TITLE = "周六丹东草莓团"
LEADER = {"id": "wxid_leader", "name": "张团长"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
SUFFIXES = ["姐", "阿姨", "哥", "叔", "妈妈", "宝妈", "奶奶", "小妹", "大爷", "老师", "先生", "女士"]
CHATTER = ["谢谢团长", "收到👌", "今天天气真好", "好的好的", "[强]", "团长辛苦了", "这次的草莓甜吗", "哈哈哈"]
CHANGING = {"join", "race", "edit", "edit_back", "cancel", "empty"}


@dataclass
class Member:
    idx: int
    wxid: str
    name: str
    label: str
    qty: int | None = None  # the quantity wanted now (None: not joined yet)
    cancelled: bool = False
    history: list[int] = field(default_factory=list)  # quantities written, in order
    line: str = ""  # the member's line as the group's list shows it now

    @property
    def key(self) -> str:
        return squash(self.label)


@dataclass
class Msg:
    seq: int
    kind: str  # join | race | edit | edit_back | cancel | empty | repeat | redeliver | chatter | summary | final
    talker: str
    text: str
    member: int | None = None  # the member whose line it changes (CHANGING kinds)
    again: int | None = None  # redeliver: the seq of the message delivered again (same id)
    qty: int | None = None  # join/edit: the quantity the member now wants
    stale: dict[int, str] = field(default_factory=dict)  # race: member -> the old text of their line this copy shows


@dataclass
class Kill:
    mode: str  # mid_burst | after_message | after_digest
    down: int  # member messages said while the bot is down (it never sees them)
    startup: int = 0  # SIGKILLs during the following start-ups, before it connects


@dataclass
class GatewayKill:
    down: int  # messages said after the gateway is back, before the bot reconnects (likely missed)


@dataclass
class RedisKill:
    down: int  # member messages said while Redis is down


Step = Msg | Kill | GatewayKill | RedisKill


def squash(label: str) -> str:
    return "".join(label.split())


def chain_text(lines: Sequence[str]) -> str:
    return HEADER + "\n\n" + "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))


class Script:
    """The whole run, decided up front from the seed: the members, the steps in order, and the truth at the end."""

    def __init__(self, seed: int, members: int, kills: int, gateway_kills: int = 3, redis_kills: int = 0) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.members = self._members(members)
        self.order: list[int] = []  # member indices in the group's list, join order
        self.history: list[list[str]] = []  # the group's list after every chain message
        self.msgs: list[Msg] = []
        self.last_chain: dict[str, int] = {}  # wxid -> seq of their last chain message
        self.cancels = 0
        self._burst(members)
        self.steps: list[Step] = self._with_faults(kills, gateway_kills, redis_kills)
        self._final()

    # --- members and messages --------------------------------------------------------------------------------------

    def _members(self, n: int) -> list[Member]:
        names = [s + x for x in SUFFIXES for s in SURNAMES]
        if n > len(names):
            raise ValueError(f"at most {len(names)} members")
        self.rng.shuffle(names)
        out = []
        for i, name in enumerate(names[:n]):
            if i % 3 == 2:
                label = f"{i % 17 + 1}-{(i % 9 + 1) * 100 + i % 7 + 1} {name}"
            else:
                label = f"{i % 23 + 1}栋{i % 4 + 1}单元 {name}"
            out.append(Member(i, f"wxid_m{i:03d}", name, label))
        return out

    def _group_list(self) -> list[str]:
        return [self.members[i].line for i in self.order]

    def _say(self, kind: str, talker: str, text: str, member: int | None = None, again: int | None = None) -> Msg:
        qty = self.members[member].qty if member is not None and kind not in {"cancel", "empty"} else None
        msg = Msg(len(self.msgs), kind, talker, text, member, again, qty)
        self.msgs.append(msg)
        if kind in CHANGING or kind in {"final", "repeat"}:
            self.last_chain[talker] = msg.seq
        if kind in CHANGING:
            self.history.append(self._group_list())
        return msg

    def _join(self, m: Member) -> None:
        m.qty = self.rng.choice([1, 1, 2, 2, 3, 4, 5])
        m.history.append(m.qty)
        m.line = f"{m.label} 草莓{m.qty}盒"
        lag = self.rng.choice([1, 2, 3]) if len(self.history) > 3 and self.rng.random() < 0.12 else 0
        base = self.history[-1 - lag] if lag else self._group_list()
        # an old copy shows the old text of lines edited since: remember whose (the stories name it)
        stale = {self.order[k]: old for k, old in enumerate(base) if old != self.members[self.order[k]].line}
        self.order.append(m.idx)
        self._say("race" if lag else "join", m.wxid, chain_text([*base, m.line]), m.idx).stale = stale

    def _edit(self, m: Member, back: bool | None = None) -> None:
        assert m.qty is not None
        if back is None:
            back = self.rng.random() < 0.5
        back = back and len(m.history) >= 2 and m.history[-2] != m.qty
        m.qty = m.history[-2] if back else self.rng.choice([q for q in range(1, 6) if q != m.qty])
        m.history.append(m.qty)
        m.line = f"{m.label} 草莓{m.qty}盒"
        self._say("edit_back" if back else "edit", m.wxid, chain_text(self._group_list()), m.idx)

    def _cancel(self, m: Member) -> None:
        m.cancelled = True
        self.cancels += 1
        empty = self.cancels % 3 == 0  # one in three empties the line, the others write 取消 on it
        m.line = m.label if empty else f"{m.line} 取消"
        self._say("empty" if empty else "cancel", m.wxid, chain_text(self._group_list()), m.idx)

    def _burst(self, n: int) -> None:
        rng = self.rng
        active = lambda: [m for m in self.members if m.qty is not None and not m.cancelled]  # noqa: E731
        for m in self.members:
            self._join(m)
            if rng.random() < 0.24 and len(active()) > 3:
                self._edit(rng.choice(active()[-40:]))
            if rng.random() < 0.08 and len(active()) > 3:
                self._cancel(rng.choice(active()[:-1]))
            recent = self.msgs[-4:]  # a repeat or a redelivery comes soon after the message (never hours later)
            copies = [x for x in recent if x.kind in CHANGING]
            if rng.random() < 0.05 and copies:
                mine = rng.choice(copies)
                self._say("repeat", mine.talker, mine.text)
            if rng.random() < 0.06:
                old = rng.choice(recent)
                self._say("redeliver", old.talker, old.text, again=old.seq if old.again is None else old.again)
            if rng.random() < 0.12:
                self._say("chatter", rng.choice(self.members[: m.idx + 1]).wxid, rng.choice(CHATTER))
            if m.idx % 45 == 44:
                self._say("summary", LEADER["id"], "汇总")
        edited = [m for m in active() if len(m.history) >= 2]
        for m in rng.sample(edited, min(4, len(edited))):  # late edits back to an earlier text, no kill involved
            self._edit(m, back=True)
        self._say("summary", LEADER["id"], "汇总")

    def _with_faults(self, kills: int, gateway_kills: int, redis_kills: int) -> list[Step]:
        rng = self.rng
        cycle = ["mid_burst", "after_message", "after_digest", "startup"]
        plan: list[Kill] = []
        for i in range(kills):
            mode = cycle[i % len(cycle)]
            if mode == "startup" and plan:
                plan[-1].startup += 1
            else:
                plan.append(Kill(mode if mode != "startup" else "mid_burst", rng.choice([0, 1, 1, 2, 3])))
        faults: list[Step] = [*plan]
        faults += [GatewayKill(rng.choice([1, 2])) for _ in range(gateway_kills)]
        faults += [RedisKill(rng.randint(6, 12)) for _ in range(redis_kills)]
        rng.shuffle(faults)
        n = len(self.msgs)
        # spread over the burst (not in its first messages: the bot has something to lose by then)
        at = sorted(rng.sample(range(max(8, n // 20), n - 2), len(faults)))
        steps: list[Step] = []
        pending = list(zip(at, faults, strict=True))
        for msg in self.msgs:
            steps.append(msg)
            while pending and pending[0][0] == msg.seq:
                steps.append(pending.pop(0)[1])
        return steps

    def _final(self) -> None:
        full = chain_text(self._group_list())
        active = [m for m in self.members if m.qty is not None and not m.cancelled]
        for m in self.rng.sample(active, 2):
            self.steps.append(self._say("final", m.wxid, full))

    # --- the truth -------------------------------------------------------------------------------------------------

    def truth(self) -> dict[str, int | None]:
        """member label (squashed) -> the quantity wanted at the end, None when cancelled."""
        return {m.key: None if m.cancelled else m.qty for m in self.members}

    @property
    def kills(self) -> int:
        return sum(1 + s.startup for s in self.steps if isinstance(s, Kill))

    def changes_of(self, member_key: str) -> list[int]:
        """seqs of the messages by which this member changed their line."""
        return [m.seq for m in self.msgs if m.kind in CHANGING and self.members[m.member or 0].key == member_key]


@dataclass(frozen=True)
class StoredOrder:
    participant: str
    status: str  # active | waiting | cancelled
    qty: float | None  # 草莓 boxes; None when the order holds no 草莓 line


@dataclass
class Defect:
    kind: str
    member: str
    want: int | None
    stored: list[str]
    story: str  # the member's messages, e.g. "join 2 (missed) → edit 3"


COUNTERS = ("lost", "duplicated", "wrong_qty", "cancel_missed", "wrongly_cancelled")


def judge(script: Script, orders: Iterable[StoredOrder], notes: dict[int, str]) -> tuple[Counter[str], list[Defect]]:
    """Compare the store with the truth; `notes`: seq -> what became of a message the bot did not handle
    (`missed`: never stored; `stored, never handled`)."""
    by_member: dict[str, list[StoredOrder]] = {}
    for o in orders:
        by_member.setdefault(squash(o.participant), []).append(o)
    counts: Counter[str] = Counter({k: 0 for k in COUNTERS})
    defects: list[Defect] = []
    names = {m.key: m for m in script.members}
    for key, want in script.truth().items():
        mine = by_member.get(key, [])
        live = [o for o in mine if o.status != "cancelled"]
        kind = None
        if want is not None and not live:
            kind = "wrongly_cancelled" if mine else "lost"
        elif want is not None and len(live) > 1:
            kind = "duplicated"
        elif want is not None and live[0].qty != want:
            kind = "wrong_qty"
        elif want is None and live:
            kind = "cancel_missed"
        if kind:
            counts[kind] += 1
            stored = [f"{o.status}:{o.qty}" for o in mine]
            defects.append(Defect(kind, names[key].label, want, stored, story(script, key, notes)))
    for key, mine in by_member.items():
        if key not in names and any(o.status != "cancelled" for o in mine):
            counts["duplicated"] += 1
            defects.append(Defect("duplicated", key, None, [f"{o.status}:{o.qty}" for o in mine], "no such member"))
    return counts, defects


def story(script: Script, key: str, notes: dict[int, str]) -> str:
    """The member's messages, oldest first, and old copies showing an old text of their line:
    `join 2 → edit 3 (missed) → #41 race copy shows 草莓2盒 → cancel`."""
    parts = []
    idx = next(m.idx for m in script.members if m.key == key)
    for msg in script.msgs:
        gone = f" ({notes[msg.seq]})" if msg.seq in notes else ""
        if msg.kind in CHANGING and msg.member == idx:
            parts.append((msg.kind if msg.qty is None else f"{msg.kind} {msg.qty}") + gone)
        elif idx in msg.stale:
            old = msg.stale[idx].split()[-1]
            parts.append(f"#{msg.seq} race copy shows {old}{gone}")
    return " → ".join(parts)


DIGEST_SECTIONS = {"✅ 已记录:": "new", "✏️ 已修改:": "edit", "❎ 已取消:": "cancel"}


def is_digest(text: str) -> bool:
    return text.rsplit("\n", 1)[-1].startswith(f"【{TITLE}】") and any(s in text for s in DIGEST_SECTIONS)


def digest_facts(text: str, labels: Sequence[str]) -> set[tuple[str, str, str]]:
    """(section, member key, what was said of them) for each member a digest names (its visible part)."""
    facts = set()
    for line in text.splitlines():
        for head, section in DIGEST_SECTIONS.items():
            if not line.startswith(head):
                continue
            body = re.sub(r" 等\d+位$", "", line[len(head) :])
            for entry in re.split("[;、]", body):
                e = squash(entry)
                owners = [k for k in labels if e.startswith(k)]
                if owners:
                    owner = max(owners, key=len)
                    facts.add((section, owner, e[len(owner) :]))
    return facts


def repeated_digests(
    script: Script, digests: Sequence[tuple[float, str]], said_at: dict[int, float], doubled: set[str]
) -> list[Repeat]:
    """Digests that tell a member's order again when nothing of theirs changed since it was told (the same section,
    the same text, no message of theirs in between); members with two orders (told twice rightly) are left out.
    `digests`: (gateway ms, text) in order; `said_at`: seq -> gateway ms of each message said."""
    labels = [m.key for m in script.members]
    changes = {m.key: sorted(said_at[s] for s in script.changes_of(m.key) if s in said_at) for m in script.members}
    told: dict[tuple[str, str, str], float] = {}
    repeats = []
    for at, text in digests:
        facts = digest_facts(text, labels)
        again = [
            f for f in facts if f in told and f[1] not in doubled and not any(told[f] < t <= at for t in changes[f[1]])
        ]
        if again:
            first = min(told[f] for f in again)
            repeats.append(Repeat(first, at, len(again), len(facts), " ".join(sorted(again)[0][1:])))
        for f in facts:
            told[f] = at
    return repeats


@dataclass(frozen=True)
class Repeat:
    told_at: float  # gateway ms when an earlier digest told it
    at: float  # gateway ms of the digest telling it again
    again: int  # members told again
    facts: int  # members this digest names
    example: str
