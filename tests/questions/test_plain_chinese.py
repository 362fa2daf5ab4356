"""Regional and traditional writing (issue #16): a member writing Cantonese in traditional characters, Wu or
Northern words is read as plain Mandarin (`bot/parsing/plain_chinese.py`), and gets the answer a Mandarin question
gets; a member's bare leader command word is no question. Driven as members would: a member says this, the bot
says exactly that."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.parsing.plain_chinese import plain
from tests.harness import BotHarness


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("幾時到貨呀", "什么时候到货呀"),  # traditional (OpenCC t2s), Cantonese 几时
        ("喺邊度攞", "在哪里拿"),
        ("到咗未", "到了没"),  # Cantonese "not yet?" after a done verb
        ("草莓有伐", "草莓有吗"),  # Wu question particle
        ("几钿一盒", "多少钱一盒"),
        ("士多啤梨爛晒", "草莓烂晒"),
        ("唔該晒", "谢谢晒"),  # thanks, mapped whole: never "不该"
        ("俺想问", "我想问"),
        ("莫得货了嘛", "没有货了嘛"),
        ("草莓还有吗", "草莓还有吗"),  # plain Mandarin is left as it is
        ("砍伐树木", "砍伐树木"),  # 伐 asks only at the end
    ],
)
def test_regional_words_read_as_mandarin(written: str, read: str) -> None:
    assert plain(written) == read


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("幾時到貨呀", "【周六丹东草莓团】到货时间团长确认后会在群里通知"),
        ("喺邊度攞貨", "自提点:东门快递柜旁(自提时间17:00-20:00)"),
        ("士多啤梨幾多錢一盒", "草莓39.9元/盒"),
        ("草莓还有伐", "草莓还有货,明天20:00截单前都可以接龙"),
        ("截单了吗", "【周六丹东草莓团】明天20:00截单,还剩1天10小时"),
    ],
)
async def test_a_regional_question_gets_the_mandarin_answer(data_dir: Path, text: str, said: str) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", text)
        bot.expect_said([said])


@pytest.mark.parametrize("text", ["唔該晒", "截单", "#库存", "到货"])
async def test_thanks_and_a_members_bare_command_word_get_nothing(data_dir: Path, text: str) -> None:
    async with BotHarness(data_dir) as bot:
        await bot.say("王阿姨", text)
        bot.expect_said([])
