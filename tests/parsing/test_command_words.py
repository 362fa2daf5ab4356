"""A leader's command as typed on a phone, read by the one table (`bot.parsing.commands`): the variants every
command accepts, questions about a command, and the closest command to a slip."""

from __future__ import annotations

import pytest

from bot.parsing import commands
from bot.parsing.commands import CommandText, read_command


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("汇总", CommandText("", "汇总", "汇总")),
        ("@小团 汇总草莓", CommandText("@", "汇总草莓", "汇总", "草莓")),
        ("@小团\u2005汇总", CommandText("@", "汇总", "汇总")),  # WeChat's space after an @-mention
        ("@小团汇总", CommandText("@", "汇总", "汇总")),
        ("＃汇总\u3000ｃａｏｍｅｉ", CommandText("#", "汇总 caomei", "汇总", "caomei")),
        ("汇总。", CommandText("", "汇总", "汇总")),
        ("汇总一下", CommandText("", "汇总一下", "汇总")),
        ("到货了!", CommandText("", "到货了", "到货")),
        ("延长截单 20：00", CommandText("", "延长截单 20:00", "延长截单", "20:00")),
        ("@李哥 截单", CommandText("", "截单", "截单")),  # a co-leader @-mentioned: a command, not to the bot
        ("@小团助手 汇总", CommandText("", "汇总", "汇总")),  # another name than the bot's
        ("#到货了吗", CommandText("#", "到货了吗", near="到货")),  # a question about the command
        ("截单时间是几点", CommandText("", "截单时间是几点", near="截单")),
        ("截单?", CommandText("", "截单?", near="截单")),
        ("@小团 汇宗", CommandText("@", "汇宗", near="汇总")),  # one character wrong
        ("加库 草莓 5", CommandText("", "加库 草莓 5", near="加库存")),  # one missing
        ("#接龙 周五团", CommandText("#", "接龙 周五团")),
        ("大家辛苦了", CommandText("", "大家辛苦了")),
    ],
)
def test_what_a_leader_types_reads_as(text: str, read: CommandText) -> None:
    assert read_command(text, "小团") == read


def test_the_channels_mention_addresses_the_bot() -> None:
    assert read_command("汇宗", "小团", mentioned=True) == CommandText("@", "汇宗", near="汇总")


def test_a_new_command_joins_the_table_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_command("#发券 草莓团", "小团") == CommandText("#", "发券 草莓团")
    monkeypatch.setitem(commands.LEADER_COMMANDS, "发券", ("送券",))
    assert read_command("#发券 草莓团", "小团") == CommandText("#", "发券 草莓团", "发券", "草莓团")
    assert read_command("送券草莓团", "小团") == CommandText("", "送券草莓团", "发券", "草莓团")
    assert read_command("#发卷", "小团").near == "发券"


def test_the_payment_and_proxy_commands_are_in_the_table() -> None:
    assert read_command("#未付 草莓团", "小团") == CommandText("#", "未付 草莓团", "未付", "草莓团")
    assert read_command("#末付", "小团").near == "未付"
    assert read_command("@小团 代抱", "小团").near == "代报"
