"""A leader's message to the bot that no command route took: a short help, with the command it looks like.

In the group, a leader's text addressed to the bot — `#`/`＃` in front, or `@小团` (the config's `bot.name`) — that is
no command gets one short answer: "没看懂这个指令,发「帮助」看全部指令", and the closest command when it is an
obvious slip (`#汇宗`, `#到货了吗`). An `@小团 …` that reads as a question the bot can answer is the questions
route's (a leader may ask too); a `#接龙` or a long or multi-line text is a post, not a command. A leader's ordinary
chat (neither `#` nor `@小团`) and anyone else's message get nothing from here. In private, a leader's message that
is no command gets the whole help (`帮助`), or the short one when it looks like a command.

The route stands after every command route and before the questions (`bot.app.default_handlers`), so a command
another route takes never comes here; the words it knows are `bot.parsing.commands.LEADER_COMMANDS`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import Outbound
from handlers.leader_commands import HELP
from handlers.questions import read_question

if TYPE_CHECKING:
    from bot.dispatch import Context

SHORT = "没看懂这个指令,发「帮助」看全部指令"
_LONGEST = 30  # a command is a few words; a longer addressed text is a post or a question


def short_help(near: str | None) -> str:
    return SHORT + (f"\n是不是想发「{near}」?" if near else "")


class CommandHelp:
    name = "command_help"
    serves_private = True

    def wants(self, ctx: Context) -> bool:
        read = ctx.command
        if read is None or not ctx.is_leader:
            return False
        if ctx.private:
            return True  # the dispatcher lets only leaders in; a private message no route took
        text = ctx.event.text.strip()
        if not read.addressed or "\n" in text or len(read.body) > _LONGEST or read.body.startswith("接龙"):
            return False
        if read.addressed == "#":
            return True
        return not read_question(ctx.services, ctx.group, ctx.event).answerable  # `@小团 草莓还有吗` is asked

    async def handle(self, ctx: Context) -> None:
        read = ctx.command
        assert read is not None
        services = ctx.services
        near = read.near or read.verb
        if not await services.leaders.confirm(ctx.group, ctx.event, services.clock.now(), services.sender, "帮助"):
            ctx.command_refused("未知指令", text=ctx.event.text[:60])
            return
        ctx.log.info("command_unknown", member_id=ctx.event.sender_id, text=ctx.event.text[:60], near=near)
        text = HELP if ctx.private and near is None else short_help(near)
        await services.sender.enqueue(
            Outbound(ctx.event.room_id, text), group=ctx.reply_group, kind="reply", key=f"reply:{ctx.event.msg_id}"
        )
