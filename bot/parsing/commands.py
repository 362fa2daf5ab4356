"""A leader's command as typed on a phone, pure: one table of the command words, and one reading of the text
around them — `@小团` or `#`/`＃` in front (the message is then addressed to the bot), full-width characters
(ＡＢＣ１２３, the full-width space, `20：00`), a space or none before the argument (`汇总草莓`, `汇总 草莓`),
trailing punctuation (`汇总。` `到货了!`).

`LEADER_COMMANDS` is the one list of "is this some leader command": each handler parses its own arguments, and a
new command joins with one line here (its word and the other words a leader types for it). The words feed the
short help a leader gets for a command the bot did not understand, with the closest command when it is an obvious
slip (`汇宗` → 汇总, `#到货了吗` → 到货).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Every leader command: its word → the other words a leader types for it (read as the command itself).
LEADER_COMMANDS: dict[str, tuple[str, ...]] = {
    "帮助": ("菜单", "指令"),
    "汇总": (),
    "导出": (),
    "到货": ("到货了",),
    "暂停": (),
    "恢复": (),
    "开团": (),
    "截单": (),
    "延长截单": (),
    "库存": (),
    "加库存": (),
    "代报": (),  # handlers/proxy_orders reads its own forms (帮…报名…); here for the short help's near-miss
    "已收": ("已收款", "已收到"),  # handlers/payments
    "未付": (),
}

#: Command words a member may say bare as a question (`截单`, `库存`): from a member they are no command. (A member's
#: bare `到货` is one, refused: she cannot announce the arrival; `到货了吗` is a question whoever asks.)
ASKED = frozenset({"截单", "开团", "库存"})

_TRAILING = "。.!！~～,，、;；…" + " "  # after NFKC: a leader's full stop or exclamation, not a question mark
_QUESTION = re.compile(r"[?？]|几点|几号|多少|什么|哪|怎么|有没有|是不是|(?:吗|嘛|么|呢|没|没有)$")
#: every word that is a leader command when typed bare (the question reader leaves a member's bare one alone)
COMMAND_WORDS = frozenset(w for verb, others in LEADER_COMMANDS.items() for w in (verb, *others))
_WORDS = sorted(COMMAND_WORDS, key=lambda w: (-len(w), w))  # longest first, in a fixed order
#: `@name ` in front, or `@name` right before `#` or a command word (typed without the space WeChat puts there)
_MENTION = re.compile(r"^@(?P<name>\S+?)(?:\s+|$|(?=#|" + "|".join(map(re.escape, _WORDS)) + "))")


@dataclass(frozen=True)
class CommandText:
    """What a message says as a command. `addressed`: "#" for `#`/`＃` in front, "@" for `@bot` in front (or the bot
    @-mentioned), "" for neither; `body`:
    the text without them; `verb`: the command (canonical word) when the text is one, with `arg` after it;
    `near`: the command a text that is none looks like (a typo, or a question about it: `到货了吗`)."""

    addressed: str
    body: str
    verb: str | None = None
    arg: str = ""
    near: str | None = None


def fold(text: str) -> str:
    """Full-width to half-width (NFKC: `ＡＢＣ１２３`, U+3000, `：`), trimmed, trailing full stops and `!` off."""
    return unicodedata.normalize("NFKC", text).strip().rstrip(_TRAILING)


def strip_address(text: str, bot_name: str = "") -> tuple[str, str]:
    """(the text without a leading `@name` and `#`, how it was addressed to the bot: "#", "@" or ""). A leading
    @-mention of someone else is taken off too (a leader may @ a co-leader), but only `@bot_name` or `#` addresses
    the bot."""
    t, addressed = fold(text), ""
    m = _MENTION.match(t)  # `@小团 汇总`, and `@小团汇总` typed without the space WeChat puts there
    if m is not None:
        addressed = "@" if bot_name and m.group("name") == fold(bot_name) else ""
        t = t[m.end() :].lstrip()
    if t[:1] == "#":
        addressed = "#"
        t = t[1:].lstrip()
    return t, addressed


def read_command(text: str, bot_name: str = "", *, mentioned: bool = False) -> CommandText:
    """The command `text` is, if any (see `CommandText`). `mentioned`: the channel says the bot was @-mentioned."""
    body, addressed = strip_address(text, bot_name)
    addressed = addressed or ("@" if mentioned else "")
    verb = _verb_at_start(body)
    if verb is None:
        return CommandText(addressed, body, near=closest(body))
    word, canonical = verb
    arg = body[len(word) :].strip()
    if _QUESTION.search(arg) or (not arg and _QUESTION.search(body)) or arg[:1] in ("了", "啦"):
        return CommandText(addressed, body, near=canonical)  # 到货了吗 / 截单了没: a question about it
    return CommandText(addressed, body, canonical, arg.removeprefix("一下").strip())


def _verb_at_start(body: str) -> tuple[str, str] | None:
    """(the word as written, its command) for the longest command word `body` starts with."""
    words = [(w, verb) for verb, others in LEADER_COMMANDS.items() for w in (verb, *others) if body.startswith(w)]
    return max(words, key=lambda w: len(w[0])) if words else None


def closest(body: str) -> str | None:
    """The command `body` (its first word) is one slip away from: one character wrong (`汇宗`), one missing or one
    too many (`加库`); None when no command is that close or two are."""
    word = body.split()[0] if body.split() else ""
    if not word or len(word) > 6:
        return None
    found = {verb for verb, others in LEADER_COMMANDS.items() for w in (verb, *others) if _one_slip(word, w)}
    return next(iter(found)) if len(found) == 1 else None


def _one_slip(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1 or min(len(a), len(b)) < 2:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
