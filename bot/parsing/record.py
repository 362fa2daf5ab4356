"""A forwarded chat record (合并转发: WeChat app message type 19) → its messages, in order, with sender and time.

The record is an `appmsg` whose `<recorditem>` holds a second XML document (in CDATA, or escaped as text):
`<recordinfo><title/><desc/><datalist count="N"><dataitem datatype="1"><sourcename>王阿姨</sourcename>
<sourcetime>2026-11-26 09:05</sourcetime><srcMsgCreateTime>1764119100</srcMsgCreateTime><datadesc>the text
</datadesc></dataitem>…</datalist></recordinfo>`. Text items are `datatype="1"`; a record forwarded inside the record
is `datatype="17"` with its own `<recordinfo>` under `<recordxml>` (read, to a bounded depth); images, files, links
and the rest carry no text to tally and are only counted. Both documents are read with defusedxml (no DTDs, no
entities: neither XXE nor an entity bomb gets through) and bounded in size, depth and item count. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

__all__ = ["ChatRecord", "RecordItem", "looks_record", "parse_record"]

_MAX_XML = 2_000_000  # as for the native 接龙 card: a real record of a few hundred messages is well under this
_MAX_ITEMS = 2_000  # messages read from one record (nested records included); the rest are counted as skipped
_MAX_DEPTH = 3  # a record inside a record inside a record, and no deeper
_TYPE19_RE = re.compile(r"<type>\s*19\s*</type>")
_TEXT_TYPES = frozenset({"", "1"})  # datatype 1 is text; an item without a datatype is read as text when it has some
_NESTED_TYPE = "17"


@dataclass(frozen=True, slots=True)
class RecordItem:
    sender: str  # the display name WeChat shows for the message (`sourcename`); "" when absent
    time: str  # as WeChat wrote it (`sourcetime`: "2026-11-26 09:05", "2026-7-19 下午11:52"…)
    ts: int | None  # unix seconds (`srcMsgCreateTime`), when the record carries it
    text: str


@dataclass(frozen=True, slots=True)
class ChatRecord:
    title: str  # "阳光花园3号群的聊天记录" (the card's title; the record's own title when the card has none)
    items: tuple[RecordItem, ...]  # the text messages, in the order the record lists them
    skipped: int  # items that carry no text (images, files, stickers…) or lie past the caps


def looks_record(text: str) -> bool:
    """Is this the raw XML of a forwarded chat record (an appmsg of type 19), possibly behind a `wxid:` line?"""
    head = text[:_MAX_XML]
    return "<appmsg" in head and "recorditem" in head and _TYPE19_RE.search(head) is not None


def _xml(text: str) -> Element | None:
    start = text.find("<")
    if start < 0:
        return None
    try:
        return fromstring(text[start:].strip())
    except (ParseError, DefusedXmlException, ValueError):
        return None


def _int_or_none(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) <= 18 else None


def _clean(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


class _Reader:
    def __init__(self) -> None:
        self.items: list[RecordItem] = []
        self.skipped = 0

    def read(self, info: Element, depth: int) -> None:
        datalist = info.find("datalist")
        for item in [] if datalist is None else datalist.findall("dataitem"):
            kind = (item.get("datatype") or "").strip()
            if kind == _NESTED_TYPE and depth < _MAX_DEPTH and (nested := self._nested(item)) is not None:
                self.read(nested, depth + 1)
                continue
            text = _clean(item.findtext("datadesc"))
            if kind not in _TEXT_TYPES or not text or len(self.items) >= _MAX_ITEMS:
                self.skipped += 1
                continue
            sender = _clean(item.findtext("sourcename"))
            time = _clean(item.findtext("sourcetime"))
            self.items.append(RecordItem(sender, time, _int_or_none(item.findtext("srcMsgCreateTime")), text))

    @staticmethod
    def _nested(item: Element) -> Element | None:
        """A record forwarded inside this one: its `recordinfo`, as elements or as escaped text."""
        holder = item.find("recordxml")
        if holder is None:
            return None
        info = holder.find("recordinfo")
        if info is not None:
            return info
        root = _xml(holder.text or "")
        return root if root is not None and root.tag == "recordinfo" else None


def parse_record(xml: str) -> ChatRecord | None:
    """Read a type-19 appmsg. None when it is not one or cannot be read (malformed, hostile, too large)."""
    if not isinstance(xml, str) or len(xml) > _MAX_XML:
        return None
    root = _xml(xml)
    if root is None:
        return None
    appmsg = root if root.tag == "appmsg" else root.find(".//appmsg")
    if appmsg is None or (appmsg.findtext("type") or "").strip() != "19":
        return None
    info = _xml(appmsg.findtext("recorditem") or "")
    if info is None or info.tag != "recordinfo":
        return None
    reader = _Reader()
    reader.read(info, 1)
    title = _clean(appmsg.findtext("title")) or _clean(info.findtext("title"))
    return ChatRecord(title, tuple(reader.items), reader.skipped)
