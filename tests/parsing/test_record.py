"""Forwarded chat records (合并转发, app message type 19): read in order, bounded, and hostile XML refused."""

from __future__ import annotations

import time
from html import escape
from pathlib import Path

from bot.channels.wechaty.translate import message_kind
from bot.events import Kind
from bot.parsing.record import RecordItem, looks_record, parse_record

FIXTURES = Path(__file__).parent.parent / "fixtures" / "forwarded"


def record(inner: str, *, cdata: bool = True, title: str = "群聊的聊天记录") -> str:
    body = f"<![CDATA[{inner}]]>" if cdata else escape(inner, quote=False)
    return f"<msg><appmsg><title>{title}</title><type>19</type><recorditem>{body}</recorditem></appmsg></msg>"


def item(sender: str, text: str, datatype: str = "1") -> str:
    return f'<dataitem datatype="{datatype}"><sourcename>{sender}</sourcename><datadesc>{text}</datadesc></dataitem>'


def info(*items: str) -> str:
    return f'<recordinfo><datalist count="{len(items)}">{"".join(items)}</datalist></recordinfo>'


def test_a_record_gives_its_text_messages_in_order_with_sender_and_time() -> None:
    xml = (FIXTURES / "record_blueberry.xml").read_text(encoding="utf-8")
    assert looks_record(xml)
    read = parse_record(xml)
    assert read is not None
    assert read.title == "阳光花园3号群的聊天记录"
    assert [(i.sender, i.time, i.ts) for i in read.items] == [
        ("周团长", "2026-11-28 09:01", 1764291660),
        ("陈叔", "2026-11-28 09:05", 1764291900),
        ("王阿姨", "2026-11-28 09:12", 1764292320),
        ("陈叔", "2026-11-28 09:20", 1764292800),
        ("陈叔", "2026-11-28 09:21", None),
    ]
    assert read.items[1].text.split("\n")[-1] == "3. 2栋 陈叔 蓝莓1盒 鸡蛋1盒"
    assert read.skipped == 1  # the image


def test_an_escaped_record_with_a_record_inside_is_read_through() -> None:
    read = parse_record((FIXTURES / "record_nested_escaped.xml").read_text(encoding="utf-8"))
    assert read is not None
    assert read.items == (
        RecordItem("何姐", "2026-7-19 下午11:52", None, "转给团长看看"),
        RecordItem("6号楼 何姐", "2026-7-19 下午11:50", 1784476200, "#接龙 土鸡蛋&蓝莓\n1. 6号楼 何姐 鸡蛋2盒"),
    )


def test_cdata_and_escaped_text_read_alike_and_a_wxid_line_is_dropped() -> None:
    inner = info(item("王阿姨", "1. 3栋 王阿姨 草莓2盒 &amp; 蓝莓1盒"))
    a, b = parse_record(record(inner)), parse_record("wxid_abc:\n" + record(inner, cdata=False))
    assert a is not None
    assert a == b
    assert a.items[0].text == "1. 3栋 王阿姨 草莓2盒 & 蓝莓1盒"


def test_not_a_record() -> None:
    assert parse_record("") is None
    assert parse_record("hello") is None
    assert parse_record("<msg><appmsg><type>53</type><title>x</title></appmsg></msg>") is None
    assert parse_record("<msg><appmsg><type>19</type><recorditem>not xml</recorditem></appmsg></msg>") is None
    assert parse_record(record("<other/>")) is None
    assert parse_record("<msg><appmsg><type>19</type>") is None
    assert not looks_record("#接龙\n1. 王阿姨")


def test_entity_bombs_and_external_entities_are_refused_outside_and_inside() -> None:
    laughs = '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    outer_bomb = f'<?xml version="1.0"?>{laughs}]><msg><appmsg><type>19</type><title>&i;</title></appmsg></msg>'
    inner_bomb = record(f"{laughs}]>" + info(item("x", "&i;")))
    outer_xxe = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><msg><appmsg><type>19</type><title>&x;</title>'
    inner_xxe = record('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + info(item("x", "&x;")))
    started = time.perf_counter()
    for xml in (outer_bomb, inner_bomb, outer_xxe + "</appmsg></msg>", inner_xxe):
        assert parse_record(xml) is None
    assert time.perf_counter() - started < 5  # refused at the DTD, not after expanding a billion laughs


def test_size_depth_and_count_are_bounded() -> None:
    assert parse_record(record(info(item("x", "y" * 2_000_001)))) is None  # past the size cap: not read at all
    many = parse_record(record(info(*(item(f"m{i}", f"{i}") for i in range(2_500)))))
    assert many is not None
    assert (len(many.items), many.skipped) == (2_000, 500)
    nested = info(item("d5", "five"))
    for depth in (4, 3, 2, 1):
        inside = f'<dataitem datatype="17"><recordxml>{nested}</recordxml></dataitem>'
        nested = info(item(f"d{depth}", str(depth)), inside)
    deep = parse_record(record(nested))
    assert deep is not None
    assert [i.text for i in deep.items] == ["1", "2", "3"]  # three records deep, and no deeper
    assert deep.skipped == 1
    assert parse_record("<msg>" * 100_000) is None  # malformed and deep: no RecursionError, no crash


def test_the_channel_names_a_record_by_its_content_or_its_type() -> None:
    xml = (FIXTURES / "record_blueberry.xml").read_text(encoding="utf-8")
    assert message_kind("MESSAGE_TYPE_UNSPECIFIED", xml) == Kind.CHAT_RECORD
    assert message_kind("MESSAGE_TYPE_CHAT_HISTORY", xml) == Kind.CHAT_RECORD
    assert message_kind("MESSAGE_TYPE_CHAT_HISTORY", "[聊天记录]") == Kind.CHAT_RECORD  # told it cannot be read
    assert message_kind("MESSAGE_TYPE_TEXT", "我转发了聊天记录 <type>19</type>") == Kind.TEXT
