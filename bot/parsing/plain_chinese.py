"""Neighbours' regional writing → the plain Mandarin the question reader's rules and model were written in.

Members type traditional characters (`幾時到貨`), Cantonese (`邊度攞`, `到咗未`), Wu (`几钿`, `有伐`), Sichuan
(`啥子`, `莫得`) and Northeastern (`嘎哈`, `啥前儿`) words. The reader learns from labelled lines; every spelling of
"where" or "not yet" it has to learn separately is a spelling a new member can still miss. So before reading, the
text is converted to simplified characters (OpenCC's `t2s`) and the regional words below are replaced by their
Mandarin word. The table is data: a word belongs here only when it has one Mandarin meaning in a group-buying chat
(`唔该` is thanks, so it is mapped whole before the bare `唔` would be). Used only on questions, never on 接龙 lines.
"""

from __future__ import annotations

import re

import opencc

__all__ = ["REGIONAL", "plain"]

#: regional word → the Mandarin word it means here (the longest match wins)
REGIONAL: dict[str, str] = {
    # Cantonese
    "唔该": "谢谢",
    "唔系": "不是",
    "系唔系": "是不是",
    "系咪": "是不是",
    "唔得": "不行",
    "得唔得": "行不行",
    "唔知": "不知道",
    "几多钱": "多少钱",
    "几时": "什么时候",
    "边度": "哪里",
    "边个": "哪个",
    "点样": "怎么",
    "点算": "怎么办",
    "乜嘢": "什么",
    "咩": "什么",
    "冇": "没有",
    "喺": "在",
    "攞": "拿",
    "咗": "了",
    "畀": "给",
    "嘅": "的",
    "啲": "些",
    "佢": "他",
    "嚟": "来",
    "嘢": "东西",
    "而家": "现在",
    "宜家": "现在",
    "士多啤梨": "草莓",
    # Wu / Shanghainese
    "几钿": "多少钱",
    "啥辰光": "什么时候",
    "晓得伐": "知道吗",
    "阿拉": "我们",
    "侬": "你",
    "勿": "不",
    # Sichuan / Chongqing
    "啥子": "什么",
    "咋个": "怎么",
    "莫得": "没有",
    # Northern
    "嘎哈": "干什么",
    "啥前儿": "什么时候",
    "咋整": "怎么办",
    "中不中": "行不行",
    "俺": "我",
}

_T2S = opencc.OpenCC("t2s")
_WORD = re.compile("|".join(re.escape(w) for w in sorted(REGIONAL, key=len, reverse=True)))
_END = r"(?=[?？,，。.!！~～\s]|$)"
# Wu's question particle `伐` (`有伐`) and Cantonese `未` after a done verb (`到咗未`) ask like 吗 / 没 at the end.
_PARTICLE = re.compile(r"伐" + _END + r"|(?<=了)未" + _END)


def plain(text: str) -> str:
    """`text` in simplified characters with the regional words above in Mandarin."""
    text = _WORD.sub(lambda m: REGIONAL[m.group(0)], _T2S.convert(text))
    return _PARTICLE.sub(lambda m: "吗" if m.group(0) == "伐" else "没", text)
