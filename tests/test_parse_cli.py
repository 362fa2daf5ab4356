"""`tuanbot parse`: files in arrival order, merged; a stable JSON shape; exit 0 on any content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import CORPUS, REPO

H = "#接龙 丹东草莓团\n例 3栋 王阿姨 草莓1盒\n\n"


def _write(tmp_path: Path, name: str, sender: str | None, *lines: str) -> str:
    head = f"@sender: {sender}\n" if sender else ""
    path = tmp_path / name
    path.write_text(head + H + "\n".join(f"{i}. {ln}" for i, ln in enumerate(lines, 1)), encoding="utf-8")
    return str(path)


def test_json_merges_copies_with_senders_edits_and_cancels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [
        _write(tmp_path, "1.txt", "王阿姨", "3栋 王阿姨 草莓2盒"),
        _write(tmp_path, "2.txt", "李姐", "3栋 王阿姨 草莓2盒", "5-1201 李姐 两盒 不要太熟的"),
        _write(tmp_path, "3.txt", "何姐", "3栋 王阿姨 草莓2盒", "6号楼2单元 何姐 榴莲1个"),  # raced 李姐
        _write(tmp_path, "4.txt", "王阿姨", "3栋 王阿姨 不要了", "6号楼2单元 何姐 榴莲1个"),
    ]
    assert main(["parse", "--json", "--config", str(REPO / "bot" / "sample" / "demo.yaml"), *files]) == 0
    doc = json.loads(capsys.readouterr().out)
    (chain,) = doc["chains"]
    assert chain["header"].startswith("#接龙 丹东草莓团")
    by_who = {e["who"]: e for e in chain["entries"]}
    assert set(by_who) == {"3栋 王阿姨", "5-1201 李姐", "6号楼2单元 何姐"}
    assert by_who["3栋 王阿姨"]["cancelled"] is True
    li = by_who["5-1201 李姐"]
    assert li == {
        "seq": 2,
        "who": "5-1201 李姐",
        "sender": "李姐",
        "items": [{"product": "草莓", "known": True, "qty": 2.0, "unit": "盒"}],
        "remark": li["remark"],
        "cancelled": False,
        "raw": "5-1201 李姐 两盒 不要太熟的",
    }
    assert "不要太熟" in li["remark"]
    assert by_who["6号楼2单元 何姐"]["items"] == [{"product": "榴莲", "known": False, "qty": 1.0, "unit": "个"}]


def test_without_a_config_every_product_is_unknown_but_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["parse", "--json", _write(tmp_path, "1.txt", None, "3栋 王阿姨 草莓2盒")]) == 0
    entry = json.loads(capsys.readouterr().out)["chains"][0]["entries"][0]
    assert entry["items"] == [{"product": "草莓", "known": False, "qty": 2.0, "unit": "盒"}]
    assert entry["sender"] is None


def test_native_card_entries_carry_their_writers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = (CORPUS / "xml_001.xml").read_text(encoding="utf-8")
    message = tmp_path / "card.xml"  # as the transport delivers it: without the corpus's provenance comments
    message.write_text("\n".join(ln for ln in raw.splitlines() if not ln.startswith("# ")), encoding="utf-8")
    assert main(["parse", "--json", str(message)]) == 0
    (chain,) = json.loads(capsys.readouterr().out)["chains"]
    assert "打卡#接龙" in chain["header"]
    assert len(chain["entries"]) == 3
    assert all(e["sender"] for e in chain["entries"])  # each entry's writer, from solitaire_info


def test_garbage_exits_0_and_unreadable_files_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    assert main(["parse", str(junk)]) == 0
    assert main(["parse", str(tmp_path / "missing.txt")]) == 1
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("catalogue: [", encoding="utf-8")
    assert main(["parse", "--config", str(bad), str(junk)]) == 1
