"""WeChat's native 接龙 card (app message type 53) and its WeCom JSON twin → entries with author and time."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.parsing.chain import ParsedChain, parse_chain

__all__ = ["NativeChain", "NativeEntry", "looks_native", "parse_native", "parse_wecom_json"]


@dataclass(frozen=True, slots=True)
class NativeEntry:
    author: str | None  # wxid (WeCom: user id) of the member who wrote the entry; None when read from the title text
    ts: int | None  # unix seconds
    text: str  # the entry's content after "N. ", continuation lines included


@dataclass(frozen=True, slots=True)
class NativeChain:
    title: str  # the whole list as plain text, as WeChat renders it
    creator: str | None
    entries: tuple[NativeEntry, ...]
    used_ranges: bool  # True: entries come from the structured ranges (with authors); False: parsed from the title
    chain: ParsedChain | None = None  # the title parsed as text (header, examples, tail, items)


_TYPE53_RE = re.compile(r"<type>\s*53\s*</type>")
_RANGE_RE = re.compile(r"\s*(\d{1,9})\s*-\s*(\d{1,9})\s*")
_NUMBER_PREFIX_RE = re.compile(r"[ \t\u3000]*[0-9０-９]{1,5}[ \t\u3000]*[.．、,，:：;；)）\-_#~～。]?[ \t\u3000]*")
_MAX_XML = 2_000_000


def looks_native(text: str) -> bool:
    """Is this the raw XML of a native 接龙 card (an appmsg of type 53), possibly behind a `wxid:` line?"""
    head = text[:_MAX_XML]
    return "<appmsg" in head and _TYPE53_RE.search(head) is not None


def _strip_prefix(text: str) -> str:
    """Drop the `wxid:\n` line group messages carry (or any other text before the XML)."""
    start = text.find("<")
    return text if start <= 0 else text[start:]


def _parse_xml(text: str) -> Element | None:
    try:
        return fromstring(text)
    except (ParseError, DefusedXmlException, ValueError):
        return None


def _clean_lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n")).strip()


def _slice_utf16(title: str, spec: str) -> tuple[str, str] | None:
    """(text before the range, the range's text), counting UTF-16 code units; None if the range is malformed."""
    m = _RANGE_RE.fullmatch(spec)
    if m is None:
        return None
    start, length = int(m.group(1)), int(m.group(2))
    units = title.encode("utf-16-le")
    if length <= 0 or 2 * (start + length) > len(units):
        return None
    try:
        before = units[: 2 * start].decode("utf-16-le")
        inside = units[2 * start : 2 * (start + length)].decode("utf-16-le")
    except UnicodeDecodeError:  # a range cutting a surrogate pair in two
        return None
    return before, inside


def _range_is_entry(title: str, spec: str, contents: set[str]) -> str | None:
    """The range's text if it is exactly the content of a numbered line of the title, else None."""
    sliced = _slice_utf16(title, spec)
    if sliced is None:
        return None
    before, inside = sliced
    line_head = before.rsplit("\n", 1)[-1]
    if not _NUMBER_PREFIX_RE.fullmatch(line_head) or not any(ch.isdigit() for ch in line_head):
        return None
    text = _clean_lines(inside)
    return text if text in contents else None


def _from_title(title: str, creator: str | None, parsed: ParsedChain) -> NativeChain:
    entries = tuple(NativeEntry(None, None, entry.raw) for entry in parsed.entries)
    return NativeChain(title, creator, entries, False, parsed)


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 18 else None


def parse_native(xml: str) -> NativeChain | None:
    """Read a type-53 appmsg. Entries come from `solitaire_info` ranges when every range checks out against the
    title; otherwise (empty info, a wrong range) from the title text, without authors. None if not a 接龙 card."""
    if not isinstance(xml, str) or len(xml) > _MAX_XML:
        return None
    root = _parse_xml(_strip_prefix(xml).strip())
    if root is None:
        return None
    appmsg = root if root.tag == "appmsg" else root.find(".//appmsg")
    if appmsg is None or (appmsg.findtext("type") or "").strip() != "53":
        return None
    title = (appmsg.findtext("title") or "").replace("\r\n", "\n")
    parsed = parse_chain(title)
    info_text = (appmsg.findtext("extinfo/solitaire_info") or "").strip()
    info = _parse_xml(info_text) if info_text else None
    if info is None:
        return _from_title(title, None, parsed)
    creator = (info.findtext("au") or "").strip() or None
    contents = {_clean_lines(entry.raw) for entry in parsed.entries}
    entries: list[NativeEntry] = []
    content = info.find("content")
    items = [] if content is None else content.findall("i")
    for item in items:
        if (item.findtext("h") or "").strip() == "1":
            continue  # the header line
        spec, literal = item.findtext("r"), item.findtext("c")
        if spec is not None and spec.strip():
            text = _range_is_entry(title, spec, contents)
        elif literal is not None:
            text = _clean_lines(literal) if _clean_lines(literal) in contents else None
        else:
            text = None
        if text is None:
            return _from_title(title, creator, parsed)
        author = (item.findtext("u") or "").strip() or None
        entries.append(NativeEntry(author, _int_or_none(item.findtext("t")), text))
    if not entries:
        return _from_title(title, creator, parsed)
    return NativeChain(title, creator, tuple(entries), True, parsed)


def _strip_json_comments(text: str) -> str:
    """Drop // comments outside strings (the WeCom hook documentation annotates its JSON that way)."""
    out: list[str] = []
    in_string = escaped = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch == "/" and text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def parse_wecom_json(text: str) -> NativeChain | None:
    """The WeCom (企业微信) 接龙 callback (msgtype 213): `content.title` + `content.solitaireInfo` ranges."""
    if not isinstance(text, str) or len(text) > _MAX_XML:
        return None
    try:
        data: Any = json.loads(_strip_json_comments(text))
    except ValueError:
        return None
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, dict) or not isinstance(content.get("title"), str):
        return None
    info = content.get("solitaireInfo")
    title = content["title"].replace("\r\n", "\n")
    parsed = parse_chain(title)
    if not isinstance(info, dict):
        return _from_title(title, None, parsed)
    creator = str(info["author_id"]) if info.get("author_id") is not None else None
    contents = {_clean_lines(entry.raw) for entry in parsed.entries}
    entries: list[NativeEntry] = []
    items = info.get("items")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("header") is True:
            continue
        spec = item.get("range")
        literal = item.get("content")
        if isinstance(spec, str) and spec.strip():
            entry_text = _range_is_entry(title, spec, contents)
        elif isinstance(literal, str) and literal.strip():
            entry_text = _clean_lines(literal) if _clean_lines(literal) in contents else None
        else:
            entry_text = None
        if entry_text is None:
            return _from_title(title, creator, parsed)
        user = item.get("user_id")
        ts = item.get("timestamp")
        entries.append(
            NativeEntry(None if user is None else str(user), ts if isinstance(ts, int) else None, entry_text)
        )
    if not entries:
        return _from_title(title, creator, parsed)
    return NativeChain(title, creator, tuple(entries), True, parsed)
