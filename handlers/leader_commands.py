"""Commands a group's leaders type in the group: `汇总` (the buy's summary) and `导出` (its xlsx workbook).
Anyone else typing them gets nothing."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.domain.buys import buys_of_group, current_buy
from bot.domain.export import export_xlsx
from bot.domain.summary import format_summary, load_summary
from bot.events import Kind, Outbound

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.dispatch import Context

#: `汇总`, `汇总 caomei-1128`, `@小团 汇总`, `#导出`
_COMMAND = re.compile(r"^\s*(?:@\S+\s+)?[#＃]?(?P<command>汇总|导出)\s*(?P<arg>\S*)\s*$")


class LeaderCommands:
    name = "leader_commands"

    def wants(self, ctx: Context) -> bool:
        return ctx.event.kind == Kind.TEXT and bool(_COMMAND.match(ctx.event.text))

    async def handle(self, ctx: Context) -> None:
        match = _COMMAND.match(ctx.event.text)
        assert match is not None
        command, arg = match.group("command"), match.group("arg")
        if not ctx.is_leader:
            ctx.log.info("command_refused", command=command, reason="not_a_leader")
            return
        buy = self._buy(ctx, arg)
        if buy is None:
            text = "本群现在没有进行中的团购。" if not arg else f"本群没有叫「{arg}」的团购。"
        elif command == "汇总":
            text = await self._summary(ctx, buy)
        else:
            text = await self._export(ctx, buy)
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, text), group=ctx.group.name, kind="summary", key=f"reply:{ctx.event.msg_id}"
        )
        ctx.log.info("command_run", command=command, buy=buy.id if buy else None)

    def _buy(self, ctx: Context, arg: str) -> Buy | None:
        config = ctx.services.config
        if arg:
            return next((b for b in buys_of_group(config, ctx.group.name) if arg in (b.id, b.title)), None)
        return current_buy(config, ctx.group.name, ctx.services.clock.now())

    async def _summary(self, ctx: Context, buy: Buy) -> str:
        async with ctx.services.db.sessions() as session:
            summary = await load_summary(session, ctx.services.config, buy, ctx.group.name)
        return format_summary(summary, buy)

    async def _export(self, ctx: Context, buy: Buy) -> str:
        """The whole buy (every group: what the supplier and the pickup need), written into the data dir."""
        services = ctx.services
        async with services.db.sessions() as session:
            summary = await load_summary(session, services.config, buy)
        stamp = services.clock.now().astimezone(services.config.tz).strftime("%Y%m%d-%H%M")
        path = services.data_dir / "exports" / f"{buy.id}-{stamp}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        export_xlsx(summary, buy, path)
        ctx.log.info("export_written", buy=buy.id, path=str(path), lines=len(summary.lines))
        # The group sees no path and no file name (a 500-member group is no place for the server's layout); the
        # operator finds the file by the `export_written` log event until it can be sent to the leader privately.
        lines = len(summary.lines)
        return f"📄 {buy.title} 已导出({lines}条,含明细、汇总、自提三张表),文件已存到机器人后台,请找运营人员领取。"
