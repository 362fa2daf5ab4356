"""What the leader configures about answers: the after-sales policy, and what happens when the bot is unsure."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, parse_config_text
from handlers.chain_orders import ChainOrders
from handlers.leader_commands import LeaderCommands
from handlers.questions import Questions
from tests.harness import CONFIG, BotHarness

HANDLERS = [ChainOrders(), LeaderCommands(), Questions()]


async def test_the_after_sales_reply_is_the_leaders_policy(data_dir: Path) -> None:
    config = CONFIG + 'questions:\n  after_sales: "{what}有问题包退包换,拍照发群里就行。"\n'
    async with BotHarness(data_dir, config=config, handlers=HANDLERS) as bot:
        await bot.say("王阿姨", "草莓坏了好几个怎么办")
        bot.expect_said(["草莓有问题包退包换,拍照发群里就行。已通知团长 @张姐"])


async def test_an_unsure_question_is_left_alone_by_default(data_dir: Path) -> None:
    async with BotHarness(data_dir, handlers=HANDLERS) as bot:
        await bot.say("王阿姨", "团长,榴莲还有没有")  # not in the catalogue: the bot is not sure
        bot.expect_silence()


async def test_or_handed_to_the_leader_when_the_config_says_so(data_dir: Path) -> None:
    config = CONFIG + "questions:\n  when_unsure: leader_note\n"
    async with BotHarness(data_dir, config=config, handlers=HANDLERS) as bot:
        await bot.say("王阿姨", "团长,山竹还有没有")  # a fruit the catalogue lacks and no training line names
        bot.expect_said(["@张姐 王阿姨问「团长,山竹还有没有」,小团拿不准,麻烦团长看一下~"])
        await bot.say("李姐", "李姐你家的猫找到了吗?")  # chatter is still chatter
        bot.expect_silence()


def test_the_policy_may_only_name_the_product() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config_text('questions:\n  after_sales: "{who}的问题找团长"\n', file="c.yaml")
    assert "c.yaml:2: questions.after_sales:" in str(err.value)
    assert "use {what}" in str(err.value)
