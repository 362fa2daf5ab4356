"""The entry parser's shortcuts read what the long way reads: each is checked against the plain code it replaced."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.parsing import chain
from bot.parsing.chain import (
    _CANCEL_RE,
    _ENTRY_RE,
    _INVISIBLE_RE,
    _LINE_RE,
    _MASK,
    _PLAIN_ENTRY_RE,
    _SP,
    _SPACE_RUN_RE,
    _STRIKE_RE,
    _TOKEN_RE,
    _TRAILING_PUNCT,
    _WHO_STRIP,
    _cancel_spans,
    _clean_who,
    _is_emoji_token,
    _mask,
    _numbered,
    _numbered_parts,
    _parse_content,
    _Scans,
    _unstrike,
    _who_walk,
    normalize_key,
)
from bot.parsing.products import ProductMatcher
from bot.parsing.quantity import BARE_COUNT, QuantityForm, find_quantities
from tests.parsing.conftest import CATALOGUE

# Text that exercises every reader of an entry: names, counts, units, addresses, cancellations, edits, fillers,
# strike marks, full-width forms, all kinds of whitespace, and line breaks.
_PIECES = [
    *"草莓蓝梅白面包子沙糖桔王阿姨李张三要买来再第个盒斤半一二两十百千栋号楼单元室xX*×+＋-－−_/#:：.．,，、;；()|｜~～",
    *"0123456789０１２３",
    *[" ", "  ", "\t", "\u3000", "\xa0", "\x0b", "\x1c", "\x85", "\n", "\n", "\n", " \n", "\n "],
    *["\u0336", "~~", "\u200b", "ﬁ", "Ａ", "é", "e\u0301", "😀"],
    *["取消", "不要了", "不需要了", "退单", "-1", "- 1", "改成", "修改", "我要", "还要", "一共", "再来"],
    *["3栋", "5-1201", "6号楼2单元", "12:30", "13800138000", "https://a.b/c", "www.x", "A3-101"],
    *["2盒", "3 袋", "x2", "*3", "+1", "半斤", "一斤半", "1.5kg", "两个", "个小时", "块钱", "包邮", "12", "123"],
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=24).map("".join)

_TRICKY = ProductMatcher([*CATALOGUE, ("3号套餐", []), ("Gt7", ["gt七"]), ("Lily同款", ["ly"]), ("门钉肉饼", [])])
_EMPTY = ProductMatcher([])


def _everything_read(matcher: ProductMatcher | None) -> _Scans:
    """The scans of the long way: every line read, every bare number found (and `accept` drops the ones it drops)."""
    return _Scans(None, BARE_COUNT)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(_TEXT, st.sampled_from([None, "草莓", "榴莲"]))
def test_reading_only_lines_that_can_hold_items_changes_nothing(
    matcher: ProductMatcher, raw: str, default_product: str | None
) -> None:
    """Quiet lines masked and bare numbers that `accept` would drop not found: the same reading as the long way."""
    for m in (matcher, _TRICKY, _EMPTY, None):
        quick = _parse_content(raw, m, default_product)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_Scans, "for_matcher", staticmethod(_everything_read))
            assert _parse_content(raw, m, default_product) == quick, raw


def test_names_that_could_span_or_hide_in_a_mask_turn_the_line_hint_off() -> None:
    assert _Scans.for_matcher(ProductMatcher([("草莓", [])])).item_hint is not None
    assert _Scans.for_matcher(ProductMatcher([("草\n莓", [])])).item_hint is None
    assert _Scans.for_matcher(ProductMatcher([(f"草{_MASK}", [])])).item_hint is None
    assert _Scans.for_matcher(None).item_hint is not None


def test_the_line_hint_finds_what_can_be_an_item() -> None:
    hint = _Scans.for_matcher(ProductMatcher([("草莓", []), ("Lily同款", [])])).item_hint
    assert hint is not None
    for line in ["草莓", "ＬＩＬＹ同款", "lily同款", "2盒", "两 袋", "半斤", "x3", "+ 1", "王, 3", "a 12"]:
        assert hint.search(line), line
    for line in ["王阿姨 送到门口", "5-1201", "3栋", "王2", "备注：不要太熟", "", "12-30", "ABC"]:
        assert not hint.search(line), line


# -- the cancellation scans ----------

_CANCEL_LINE_RE = re.compile(r"(?:取消|不要了|不需要了|退出|撤销|撤单|退单|[-－−]\s?1)[。.!！~～ ]*")


def _cancel_spans_the_long_way(text: str, first_end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _CANCEL_RE.finditer(text):
        if m.start() >= first_end:
            break
        spans.append(m.span())
    pos = first_end + 1
    for line in text[first_end + 1 :].split("\n"):
        stripped = line.strip()
        if stripped and _CANCEL_LINE_RE.fullmatch(stripped):
            offset = pos + line.index(stripped)
            spans.append((offset, offset + len(stripped)))
        pos += len(line) + 1
    return spans


_CANCEL_TEXT = st.lists(
    st.sampled_from([*"取消不要了需退出撤销单 -－−1。.!！~～a", "\n", "\t", "\u3000", "\x0b", "\x1c", "\x85", "\xa0"]),
    max_size=30,
).map("".join)


@settings(max_examples=800)
@given(_CANCEL_TEXT)
@example("王 -\n1")  # a cancellation that starts on the first line and ends on the next
@example("王 -\n12")  # …and what its look-ahead must see to refuse it
@example("王 -\n1\n")
@example("王-\n取消2盒")  # a cancel word starting the second line (in reach of the first), in a line that says more
@example("王\n取消\n \t取消。。 \n不要了 ~\n-\u30001\x0b")
def test_cancellations_are_found_as_line_by_line(text: str) -> None:
    first_end = text.find("\n") if "\n" in text else len(text)
    assert _cancel_spans(text, first_end) == _cancel_spans_the_long_way(text, first_end)


# -- who, strike marks, masks, keys ----------


def _who_walk_the_long_way(line: str) -> int:
    end = 0
    seen_name = False
    join_next = False
    for m in _TOKEN_RE.finditer(line):
        token = m.group(0)
        if chain._ADDRESS_TOKEN_RE.fullmatch(token.rstrip("，,、")):
            end = m.end()
            continue
        if token in ("|", "｜", "/"):
            join_next = True
            end = m.end()
            continue
        if not seen_name or join_next or (seen_name and _is_emoji_token(token)):
            seen_name = True
            join_next = token.endswith(("|", "｜"))
            end = m.end()
            continue
        break
    return end


_FILLER_SUFFIX_RE = re.compile(r"(?:我也要|我要|还要|再要|再来|要|买|订)$")


def _clean_who_the_long_way(text: str) -> str:
    who = _CANCEL_RE.sub(" ", text)
    who = _SPACE_RUN_RE.sub(lambda m: m.group(0) if "\u3000" not in m.group(0) else " ", who)
    who = who.strip(_WHO_STRIP)
    filler = _FILLER_SUFFIX_RE.search(who)
    if filler and filler.start() > 0:
        who = who[: filler.start()].rstrip(_WHO_STRIP)
    return who


@settings(max_examples=500)
@given(_TEXT)
@example("王\u3000\u3000李")  # a run of spaces holding an ideographic space becomes one space
@example("王 \u3000 李 张 三")
@example("3栋 王阿姨 取消")
@example("王阿姨我要")  # a filler ending the label
@example("  王阿姨  ")
def test_who_is_read_as_the_long_way(text: str) -> None:
    line = text.split("\n")[0]
    assert _who_walk(line) == _who_walk_the_long_way(line)
    assert _clean_who(line) == _clean_who_the_long_way(line)


def _unstrike_the_long_way(raw: str) -> tuple[str, bool]:
    text = raw
    struck = False
    if _STRIKE_RE.search(raw):
        text = _STRIKE_RE.sub("", raw)
        marks = len(raw) - len(text)
        visible = len("".join(text.split()))
        struck = marks * 2 >= visible
    stripped = text.strip()
    if len(stripped) > 4 and stripped.startswith("~~") and stripped.endswith("~~"):
        struck = True
        text = stripped[2:-2]
    return text, struck


def _normalize_key_the_long_way(raw: str) -> str:
    if not unicodedata.is_normalized("NFKC", raw):
        raw = unicodedata.normalize("NFKC", raw)
    text = " ".join(_INVISIBLE_RE.sub("", raw).split())
    if text.startswith("~~") and text.endswith("~~") and len(text) > 4:
        text = text[2:-2].strip()
    return text.rstrip(_TRAILING_PUNCT)


def _mask_the_long_way(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    pieces: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        start = max(start, pos)
        if end <= start:
            continue
        pieces.append(text[pos:start])
        pieces.append("\n".join(_MASK * len(part) for part in text[start:end].split("\n")))
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


@settings(max_examples=500)
@given(_TEXT, st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=4))
def test_strike_marks_masks_and_keys_as_the_long_way(text: str, spans: list[tuple[int, int]]) -> None:
    assert _unstrike(text) == _unstrike_the_long_way(text)
    assert normalize_key(text) == _normalize_key_the_long_way(text)
    spans = [(min(a, b, len(text)), min(max(a, b), len(text))) for a, b in spans]
    assert _mask(text, spans) == _mask_the_long_way(text, spans)


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_nfkc_is_nfc_of_nfkd(text: str) -> None:
    """What `normalize_key` relies on, on any text (the standard's definition of NFKC)."""
    nfkc = unicodedata.normalize("NFKC", text)
    assert unicodedata.normalize("NFC", unicodedata.normalize("NFKD", text)) == nfkc
    assert normalize_key(text) == _normalize_key_the_long_way(text)


# -- list lines ----------

_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _numbered_the_long_way(line: str, expected: int) -> tuple[int, str] | None:
    m = _ENTRY_RE.match(line)
    if m is None:
        return None
    raw_num, sep, rest = m.group("num"), m.group("sep"), m.group("rest")
    num = ord(raw_num) - ord("①") + 1 if "①" <= raw_num <= "⑳" else int(raw_num.translate(_DIGITS))
    if len(raw_num) > 3 and num != expected:
        return None
    content = rest.strip(_SP)
    if sep is None and not ("①" <= raw_num <= "⑳"):
        if content:
            return None
        return (num, "") if num == expected else None
    if rest[:1].isdigit():
        if sep is None or sep in ":：-_~～":
            return None
        if sep not in ".．,，。":
            return num, content
        digit_run = len(rest) - len(rest.lstrip("0123456789０１２３４５６７８９"))
        if digit_run <= 2 or num != expected:
            return None
    return num, content


_LINE = st.lists(
    st.sampled_from([*"0123456789０１２①⑳ \t\u3000.．、,，:：;；)）-_#~～。\ufe0f\u20e3a草 ", "12", "2023", "99999"]),
    max_size=10,
).map("".join)


@settings(max_examples=800)
@given(_LINE, st.sampled_from([1, 2, 12, 999, 1000, 2023, 99999]))
def test_list_lines_are_told_as_the_long_way(line: str, expected: int) -> None:
    """`parse_chain` matches each line once with `_LINE_RE`: None where no entry can open, the plain shape's groups,
    or `_ENTRY_RE`'s groups for `_numbered_parts`; together what `_PLAIN_ENTRY_RE` and `_numbered` said."""
    m = _LINE_RE.match(line)
    plain = _PLAIN_ENTRY_RE.match(line)
    long_way = _numbered_the_long_way(line, expected)
    assert _numbered(line, expected) == long_way
    if m is None:
        assert plain is None
        assert long_way is None
    elif m.group(1) is not None:
        assert plain is not None
        assert m.group(1, 2) == plain.groups()
    else:
        assert plain is None
        raw_num, sep, rest = m.group("num", "sep", "rest")
        assert _numbered_parts(raw_num, sep, rest, expected) == long_way


# -- bare counts ----------


@settings(max_examples=500)
@given(_TEXT)
def test_a_narrowed_bare_count_pattern_leaves_out_only_bare_counts(text: str) -> None:
    """`find_quantities(bare=…)` finds what the plain scan finds but the bare counts its pattern does not match."""
    bare = _Scans.for_matcher(ProductMatcher(CATALOGUE)).bare
    narrowed = re.compile(bare)
    everything = find_quantities(text)
    kept = [
        span
        for span in everything
        if span.form is not QuantityForm.BARE
        or ((m := narrowed.match(text, span.start)) is not None and m.end() == span.end)
    ]
    assert find_quantities(text, bare=bare) == kept


def test_a_bare_number_opening_a_later_line_is_not_a_count(matcher: ProductMatcher) -> None:
    """The first token of any line is an address or a name: this asks `_find_items` where each line starts."""
    for raw in ["王阿姨\n 3", "王阿姨\n\u3000 12", "王阿姨 草莓\n 3\n 4"]:
        for m in (matcher, None):
            parsed = _parse_content(raw, m, None)
            assert [str(item.qty) for item in parsed.items] == (["1"] if "草莓" in raw and m else []), raw
    assert _parse_content("王阿姨\n李 3", None, None).items != ()  # not the first token: a count
