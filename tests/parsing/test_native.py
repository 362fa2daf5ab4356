from __future__ import annotations

from bot.parsing.native import looks_native, parse_native, parse_wecom_json
from tests.parsing.conftest import load_corpus


def test_xml_001_ranges_give_authors_and_times() -> None:
    xml = load_corpus("xml_001.xml")
    assert looks_native(xml)
    chain = parse_native(xml)
    assert chain is not None
    assert chain.used_ranges
    assert chain.creator == "wxid_raa06gopa5fq22"
    assert chain.title.startswith("@真AI健身教练Jessie  打卡#接龙")
    assert [(e.author, e.ts) for e in chain.entries] == [
        ("wxid_raa06gopa5fq22", 1687786648),
        ("wxid_6xtgy1o42c8y22", 1687787631),
        ("zwg964848042", 1687793742),
    ]
    assert chain.entries[0].text == "Kevin涛-增肌-8年~18天 打卡19天\n胸部：俯卧撑100个\n全身：波比跳20个"
    assert chain.entries[2].text == "gooney-增肌-3年-17天 打卡 第19天 腿部训练 60分钟"
    assert chain.chain is not None
    assert chain.chain.examples[0].startswith("例 打卡第X天")


def test_xml_002_wrong_ranges_fall_back_to_the_title() -> None:
    chain = parse_native(load_corpus("xml_002.xml"))
    assert chain is not None
    assert not chain.used_ranges
    assert chain.creator == "wxid_denb6dom19oh22"
    assert len(chain.entries) == 10
    assert all(e.author is None and e.ts is None for e in chain.entries)
    assert chain.entries[1].text == "大螃蟹 7:20-8:35 玩手机，洗漱收拾，吃早饭，学习拍照基础知识"


def test_xml_003_empty_info_falls_back_to_the_title() -> None:
    xml = load_corpus("xml_003.xml")
    assert looks_native(xml)
    chain = parse_native(xml)
    assert chain is not None
    assert not chain.used_ranges
    assert chain.creator is None
    assert chain.title == "毛毛🐶，我的奶茶在哪里～～～"
    assert chain.entries == ()


def test_a_shifted_range_is_rejected() -> None:
    xml = load_corpus("xml_001.xml").replace("<r>138-20</r>", "<r>137-20</r>")
    chain = parse_native(xml)
    assert chain is not None
    assert not chain.used_ranges
    assert len(chain.entries) == 3


def test_a_range_splitting_an_emoji_is_rejected() -> None:
    xml = load_corpus("xml_001.xml").replace("<r>91-43</r>", "<r>60-3</r>")
    chain = parse_native(xml)
    assert chain is not None
    assert not chain.used_ranges


def test_not_native() -> None:
    assert parse_native("") is None
    assert parse_native("hello") is None
    assert parse_native("<msg><appmsg><type>5</type><title>x</title></appmsg></msg>") is None
    assert parse_native("<msg><appmsg><type>53</type>") is None
    assert not looks_native("#接龙\n1. 王阿姨")


def test_entity_bombs_are_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        "<msg><appmsg><type>53</type><title>&lol2;</title></appmsg></msg>"
    )
    assert parse_native(bomb) is None


def test_wecom_json() -> None:
    chain = parse_wecom_json(load_corpus("xml_004.json"))
    assert chain is not None
    assert chain.used_ranges
    assert chain.creator == "7881302555913738"
    assert [(e.author, e.ts, e.text) for e in chain.entries] == [
        ("7881302555913738", 1750605934, "十年一刻 666666"),
        ("1688854256622049", 1750606059, "77777 23423423423"),
    ]
    assert parse_wecom_json("not json") is None
    assert parse_wecom_json("[]") is None
