"""`tuanbot parse`: files in arrival order, merged; a stable JSON shape; exit 0 on any content."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import CORPUS, REPO
from tests.harness import CONFIG, BotHarness, chain

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


def test_the_next_copy_heals_what_was_missed_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """#17 through `tuanbot parse`: 王阿姨's edit and 何姐's cancel are missing from the files; 陈叔's copy carries
    both, and 李姐 dropped 王阿姨's unit by mistake: one order each, as their writers wrote them."""
    files = [
        _write(tmp_path, "1.txt", "何姐", "3栋 王阿姨 草莓2盒", "6号楼 何姐 草莓1盒"),
        _write(tmp_path, "2.txt", "陈叔", "3栋 王阿姨 草莓3盒", "6号楼 何姐 不要了", "2栋 陈叔 草莓1盒"),
        _write(
            tmp_path,
            "3.txt",
            "李姐",
            "3栋 王阿姨 草莓3",
            "6号楼 何姐 不要了",
            "2栋 陈叔 草莓1盒",
            "5-1201 李姐 草莓1盒",
        ),
    ]
    assert main(["parse", "--json", "--config", str(REPO / "bot" / "sample" / "demo.yaml"), *files]) == 0
    entries = json.loads(capsys.readouterr().out)["chains"][0]["entries"]
    assert [(e["raw"], e["cancelled"]) for e in entries] == [
        ("6号楼 何姐 草莓1盒", True),
        ("3栋 王阿姨 草莓3盒", False),
        ("2栋 陈叔 草莓1盒", False),
        ("5-1201 李姐 草莓1盒", False),
    ]


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


def _burst(members: int, seed: int) -> list[tuple[str, str]]:
    """(sender, text) of a busy chain: members append to the latest list they saw, some to a list a few messages old
    (a race), some edit their own line, some cancel theirs."""
    rng = random.Random(seed)
    header = "#接龙 周六丹东草莓团\n草莓39.9元/盒\n例 3栋 王阿姨 草莓1盒"
    latest: list[str] = []
    history: list[list[str]] = [[]]
    messages: list[tuple[str, str]] = []
    mine: dict[str, str] = {}  # sender → their line in the latest list

    def send(sender: str, lines: list[str]) -> None:
        messages.append((sender, chain(header, *lines)))

    for i in range(members):
        roll = rng.random()
        if roll < 0.15 and mine:  # an edit of one's own line
            sender = rng.choice(sorted(mine))
            old = mine[sender]
            new = f"{old.rsplit(' ', 1)[0]} 草莓{rng.randint(1, 5)}盒"
            if new != old and old in latest:
                latest = [new if ln == old else ln for ln in latest]
                mine[sender] = new
                send(sender, latest)
                history.append(latest)
                continue
        if roll > 0.9 and mine:  # a cancel
            sender = rng.choice(sorted(mine))
            old = mine.pop(sender)
            if old in latest:
                latest = [f"{old.rsplit(' ', 1)[0]} 不要了" if ln == old else ln for ln in latest]
                send(sender, latest)
                history.append(latest)
                continue
        sender = f"邻居{i}"
        line = f"{i % 9 + 1}栋 {sender} 草莓{rng.randint(1, 4)}盒"
        base = history[max(0, len(history) - 1 - rng.choice([1, 2]))] if rng.random() < 0.2 else latest
        send(sender, [*base, line])  # a racing copy lacks lines others added meanwhile
        latest = [*latest, line]
        history.append(latest)
        mine[sender] = line
    return messages


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_cli_and_the_bot_give_the_same_orders(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    """`tuanbot parse` and the bot read a burst with races, edits and cancels with one engine: the same orders."""
    messages = _burst(40, seed)
    files = []
    for k, (sender, text) in enumerate(messages):
        path = tmp_path / f"{k:03d}.txt"
        path.write_text(f"@sender: {sender}\n{text}", encoding="utf-8")
        files.append(str(path))
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    assert main(["parse", "--json", "--config", str(config), *files]) == 0
    (parsed,) = json.loads(capsys.readouterr().out)["chains"]
    cli = sorted(
        (e["who"], [f"{it['product']}{it['qty']:g}{it['unit'] or ''}" for it in e["items"]])
        for e in parsed["entries"]
        if not e["cancelled"]
    )
    async with BotHarness(data_dir) as bot:
        for sender, text in messages:
            await bot.say(sender, text, settle=False)
        orders = sorted(await bot.orders())
    assert cli == orders
    assert len(orders) >= 15


def test_i_is_the_sender_of_the_message_and_nobody_without_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "1.txt"
    mine.write_text("@sender: 3栋小李\n我要2份\n李四 3份", encoding="utf-8")
    anonymous = tmp_path / "2.txt"
    anonymous.write_text("我也要1份", encoding="utf-8")
    assert main(["parse", "--json", str(mine)]) == 0
    entries = json.loads(capsys.readouterr().out)["chains"][0]["entries"]
    assert [(e["who"], e["items"][0]["qty"]) for e in entries] == [("3栋小李", 2.0), ("李四", 3.0)]
    assert main(["parse", "--json", str(anonymous)]) == 0
    assert json.loads(capsys.readouterr().out)["chains"][0]["entries"] == []
