"""Commands a group's leaders type in the group (`汇总` …). Anyone else typing them gets nothing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.domain.buys import buys_of_group, current_buy
from bot.domain.summary import format_summary, load_summary
from bot.events import Kind, Outbound

if TYPE_CHECKING:
    from bot.dispatch import Context

#: `汇总`, `汇总 caomei-1128`, `@小团 汇总`, `#汇总`
_SUMMARY = re.compile(r"^\s*(?:@\S+\s+)?[#＃]?汇总\s*(?P<arg>\S*)\s*$")


class LeaderCommands:
    name = "leader_commands"

    def wants(self, ctx: Context) -> bool:
        return ctx.event.kind == Kind.TEXT and bool(_SUMMARY.match(ctx.event.text))

    async def handle(self, ctx: Context) -> None:
        if not ctx.is_leader:
            ctx.log.info("command_refused", command="汇总", reason="not_a_leader")
            return
        match = _SUMMARY.match(ctx.event.text)
        assert match is not None
        services = ctx.services
        config = services.config
        arg = match.group("arg")
        if arg:
            buy = next((b for b in buys_of_group(config, ctx.group.name) if arg in (b.id, b.title)), None)
        else:
            buy = current_buy(config, ctx.group.name, services.clock.now())
        if buy is None:
            text = "本群现在没有进行中的团购。" if not arg else f"本群没有叫「{arg}」的团购。"
        else:
            async with services.db.sessions() as session:
                summary = await load_summary(session, config, buy, ctx.group.name)
            text = format_summary(summary, buy)
        await services.sender.enqueue(
            Outbound(ctx.event.room_id, text), group=ctx.group.name, kind="summary", key=f"reply:{ctx.event.msg_id}"
        )
        ctx.log.info("command_run", command="汇总", buy=buy.id if buy else None)
