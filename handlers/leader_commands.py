"""Commands a group's leaders type in the group: `汇总` (the buy's summary) and `导出` (its xlsx workbook).
Anyone else typing them gets nothing.

`汇总 X` means the buy X names: its id or title, a word of its title, or a product it sells (`汇总 脐橙`); a bare
`汇总` with several buys open answers for each (one summary each, soonest cutoff first)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.domain.export import export_xlsx
from bot.domain.subject import buys_for_command
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
        buys = buys_for_command(ctx.services.config, ctx.group.name, arg, ctx.services.clock.now())
        if not buys:
            texts = ["本群现在没有进行中的团购。" if not arg else f"本群没有叫「{arg}」的团购。"]
        elif command == "汇总":
            texts = [await self._summary(ctx, buy) for buy in buys]
        else:
            texts = [await self._export(ctx, buy) for buy in buys]
        for i, text in enumerate(texts):
            key = f"reply:{ctx.event.msg_id}" + (f":{i}" if i else "")
            await ctx.services.sender.enqueue(
                Outbound(ctx.event.room_id, text), group=ctx.group.name, kind="summary", key=key
            )
        ctx.log.info("command_run", command=command, buys=[b.id for b in buys])

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
