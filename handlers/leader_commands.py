"""Commands a group's leaders type in the group or in a private chat with the bot: `汇总` (the buy's summary),
`导出` (its xlsx workbook, sent to the leader privately), `到货` (the arrival post), `暂停`/`恢复`, `帮助`.
Anyone else typing them gets nothing (logged as `command_refused`); a leader's text that is no command, privately or
addressed to the bot in the group, is `handlers.command_help`'s. The words are read by `bot.parsing.commands`.

`汇总 X` means the buy X names: its id or title, a word of its title, or a product it sells (`汇总 脐橙`); a bare
`汇总` with several buys open answers for each (one summary each, soonest cutoff first)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.leaders import listed
from bot.domain.export import export_xlsx
from bot.domain.subject import buys_for_command
from bot.domain.summary import format_summary, load_summary
from bot.events import Outbound
from bot.notices.arrival import queue_arrival

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.dispatch import Context

VERBS = ("汇总", "导出", "到货", "帮助", "暂停", "恢复")


HELP = "\n".join(
    [
        "我能帮团长做这些(群里或私聊我都行):",
        "开团 团名 — 现在就开配置好的团,发接龙",
        "开团 标题 商品 价格/单位 [库存N] [截单 时间] [成团N人] — 在群里新开一个团",
        "截单 [团名/商品] — 现在截单,群里通知",
        "延长截单 [团名/商品] 时间 — 改截单时间(如 周五20:00、今晚8点),群里通知",
        "库存 商品 N / 加库存 商品 N — 设置 / 追加库存,候补的邻居按顺序转正",
        "代报 邻居 商品数量 — 替不会接龙的邻居报名(如 代报 3栋王阿姨 草莓2盒)",
        "取消 邻居 [商品] — 取消这位邻居的订单(写商品只取消这一样)",
        "汇总 [团名/商品] — 这个团的订单汇总",
        "导出 [团名/商品] — 导出表格,私发给你",
        "到货 [团名/商品] — 发到货通知,写明自提地点时间,@买了的邻居",
        "已收 接龙名 [金额] — 记下这位邻居已付款(金额不一样会算出少付/多付)",
        "未付 [团名/商品] — 谁还没付、各多少、共多少,私发给你(要发在群里:未付 发群)",
        "暂停 / 恢复 [群名] — 我在群里先不说话(接龙照常记录)/ 恢复",
        "转发接龙或聊天记录给我 — 私聊里帮你汇总(不记入团购),再发「导出」拿表格",
        "帮助 — 看这张表",
    ]
)


class LeaderCommands:
    name = "leader_commands"
    serves_private = True  # a leader's commands work one to one with the bot too

    def wants(self, ctx: Context) -> bool:
        return ctx.command is not None and ctx.command.verb in VERBS

    async def handle(self, ctx: Context) -> None:
        assert ctx.command is not None
        assert ctx.command.verb is not None
        command, arg = ctx.command.verb, ctx.command.arg
        services = ctx.services
        if not ctx.is_leader or not await services.leaders.confirm(
            ctx.group, ctx.event, services.clock.now(), services.sender, command
        ):
            ctx.command_refused(command)
            return
        ctx.command_run(command, arg=arg)
        if command == "帮助":
            await self._reply(ctx, HELP)
            return
        if command in ("暂停", "恢复"):
            await self._pause(ctx, command == "暂停", arg)
            return
        buys = self._buys(ctx, arg)
        where = "你带的群" if ctx.private else "本群"
        files: list[Path] = []
        if not buys:
            texts = [f"{where}现在没有进行中的团购。" if not arg else f"{where}没有叫「{arg}」的团购。"]
        elif command == "到货" and len(buys) > 1:  # one arrival post per buy: ask which rather than post several
            texts = ["现在有几个团,请说是哪个:" + "、".join(f"「到货 {b.title}」" for b in buys)]
        elif command == "到货":
            texts = [await self._arrival(ctx, buys[0])]
        elif command == "汇总":
            summaries = [(buy, await self._summary(ctx, buy)) for buy in buys]
            if not arg and len(summaries) > 1 and any(lines for _, (_, lines) in summaries):
                summaries = [s for s in summaries if s[1][1]]  # several open: the ones with orders, not empty lists
            texts = [text for _, (text, _) in summaries]
        else:
            exported = [await self._export(ctx, buy) for buy in buys]
            texts, files = [t for t, _ in exported], [f for _, f in exported]
        for i, text in enumerate(t for t in texts if t):  # 到货 in the group: the post is the answer
            await self._reply(ctx, text, i)
        for workbook in files:
            # The workbook goes to the leader who asked, one to one, whichever conversation they asked in: the
            # group sees neither the file nor its name (every neighbour's order and phone is in it).
            await ctx.services.sender.enqueue(
                Outbound(ctx.event.sender_id, workbook.name, file=str(workbook)),
                group=None,
                kind="file",
                key=f"export_file:{ctx.event.msg_id}:{workbook.name}",
            )

    async def _pause(self, ctx: Context, pause: bool, arg: str) -> None:
        """`暂停` / `恢复` this group (in private: the group named, or the only one the leader leads)."""
        verb = "暂停" if pause else "恢复"
        groups = [arg] if arg else self._groups(ctx)
        if arg and arg not in self._groups(ctx):
            await self._reply(ctx, f"你带的群里没有「{arg}」。")
            return
        if len(groups) != 1:
            await self._reply(ctx, "你带了几个群,请说是哪个群:" + "、".join(f"「{verb} {g}」" for g in groups))
            return
        [group] = groups
        await ctx.services.groups.set_paused(group, pause)
        where = "本群" if not ctx.private else group
        if pause:
            text = f"⏸ 已暂停:我在{where}先不发消息、不回答问题,接龙照常记录。发「恢复」我就回来~"
        else:
            text = f"▶️ 已恢复:我在{where}继续为大家服务~"
        await self._reply(ctx, text)
        ctx.log.info("group_paused" if pause else "group_resumed", group_paused=group, member_id=ctx.event.sender_id)

    async def _reply(self, ctx: Context, text: str, i: int = 0) -> None:
        key = f"reply:{ctx.event.msg_id}" + (f":{i}" if i else "")
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, text), group=ctx.reply_group, kind="summary", key=key
        )

    def _groups(self, ctx: Context) -> list[str]:
        """The groups a command is about: this one, or in private every group the leader leads."""
        if not ctx.private:
            return [ctx.group.name]
        return [g.name for g in ctx.services.config.groups if listed(g, ctx.event)]

    def _buys(self, ctx: Context, arg: str) -> list[Buy]:
        """The buys `arg` names (id, title, a word of it, a product sold) in the command's groups; none named:
        the open ones (bot.domain.subject.buys_for_command)."""
        config, now = ctx.services.config, ctx.services.clock.now()
        found: list[Buy] = []
        for group in self._groups(ctx):
            found += [b for b in buys_for_command(config, group, arg, now) if b not in found]
        return found

    async def _arrival(self, ctx: Context, buy: Buy) -> str:
        """The arrival post in each of the buy's groups this leader leads (in the group: that group)."""
        services, told = ctx.services, []
        for name in self._groups(ctx):
            group, room = services.config.group(name), services.groups.room_of(name)
            if group is None or room is None or name not in {g.name for g in services.config.groups_of(buy.groups)}:
                continue
            count = await queue_arrival(services, buy, group, room, ctx.event.msg_id)
            told.append(f"{name}({count}人)")
        if not told:
            return f"{buy.title}:你带的群里还没有可以发到货通知的群。"
        return f"✅ 已在{'、'.join(told)}发了{buy.title}的到货通知。" if ctx.private else ""

    async def _summary(self, ctx: Context, buy: Buy) -> tuple[str, int]:
        """The summary's text and how many lines it lists (in private: the whole buy, every group)."""
        async with ctx.services.db.sessions() as session:
            summary = await load_summary(session, ctx.services.config, buy, None if ctx.private else ctx.group.name)
        # who paid: each line's mark to the leader privately; in the group only the 收款 total, never who owes
        closed = buy.cutoff is not None and buy.cutoff <= ctx.services.clock.now()  # short of 成团: 未成团, what to do
        return format_summary(summary, buy, "lines" if ctx.private else "total", closed), len(summary.lines)

    async def _export(self, ctx: Context, buy: Buy) -> tuple[str, Path]:
        """The whole buy (every group: what the supplier and the pickup need), written into the data dir."""
        services = ctx.services
        async with services.db.sessions() as session:
            summary = await load_summary(session, services.config, buy)
        stamp = services.clock.now().astimezone(services.config.tz).strftime("%Y%m%d-%H%M")
        path = services.data_dir / "exports" / f"{buy.id}-{stamp}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        export_xlsx(summary, buy, path)
        ctx.log.info("export_written", buy=buy.id, path=str(path), lines=len(summary.lines))
        lines = len(summary.lines)
        sent_to = "文件发给你了" if ctx.private else "文件已私发给团长"
        return f"📄 {buy.title} 已导出({lines}条,含明细、汇总、自提三张表),{sent_to}。", path
