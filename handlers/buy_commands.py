"""A leader runs the buy from the phone (#15), in the group or privately: `开团 ID`, `开团 标题 商品 价格/单位 …`,
`截单 [团]`, `延长截单 [团] 时间`, `库存 商品 N`, `加库存 商品 N`. Leaders only (`services.leaders.confirm`). What
they change is stored as a chat change on the plan (`bot.domain.overlay`); posts go to the buy's groups under the
keys the scheduler's firings use, so a restart's catch-up never says them twice."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, update

from bot.core.leaders import listed
from bot.domain.chat_buys import find_buy, new_buy, replan, restock
from bot.domain.overlay import save_chat_buy, save_plan_change
from bot.domain.summary import load_status, load_summary, unformed_hint
from bot.events import Outbound
from bot.notices.posts import Live, buy_open_text, cutoff_text, when_text
from bot.parsing.buy_commands import VERBS, BuyCommand, read_buy_command
from bot.send_policy import LEADER_POST
from storage.models import ChainLine, GroupBuy

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.dispatch import Context

NEW_BUY = "开团 标题 商品 价格/单位 [库存N] [截单 时间] [成团N人]"
TIMES = "周五20:00、今晚8点、明天中午12点、12月5日 20:00"


class BuyCommands:
    name = "buy_commands"
    serves_private = True  # a leader's commands work one to one with the bot too

    def wants(self, ctx: Context) -> bool:
        # a member's 截单了吗 is a question, and so is a member's bare 截单 (`ctx.command`); a member's 截单 草莓团 is
        # a command, refused
        return ctx.command is not None and ctx.command.verb in VERBS and self._read(ctx) is not None

    def _read(self, ctx: Context) -> BuyCommand | None:
        return read_buy_command(ctx.event.text, ctx.services.clock.now(), ctx.services.config.bot.name)

    async def handle(self, ctx: Context) -> None:
        services = ctx.services
        now = services.clock.now()
        command = self._read(ctx)
        assert command is not None
        if not ctx.is_leader or not await services.leaders.confirm(
            ctx.group, ctx.event, now, services.sender, command.verb
        ):
            ctx.command_refused(command.verb)
            return
        ctx.command_run(command.verb, text=ctx.event.text[:80])
        if command.verb == "开团":
            await (self._create(ctx, command, now) if command.title else self._open(ctx, command, now))
        elif command.verb == "截单":
            await self._close(ctx, command, now)
        elif command.verb == "延长截单":
            await self._extend(ctx, command, now)
        else:
            await self._stock(ctx, command, now)

    # --- the commands --------------------------------------------------------------------------------------------

    async def _create(self, ctx: Context, command: BuyCommand, now: datetime) -> None:
        if command.problem == "time":
            await self._reply(ctx, f"没看懂截单时间「{command.when_text}」,可以这样写:{TIMES}")
            return
        made = await new_buy(ctx.services, command, self._groups(ctx), now)
        if isinstance(made, str):
            await self._reply(ctx, made)
            return
        spec, products = made
        await save_chat_buy(ctx.services, spec, products, ctx.event.sender_id)
        await replan(ctx.services, spec["id"])
        buy = ctx.services.config.buy(spec["id"])
        assert buy is not None
        ctx.log.info("buy_created_in_chat", buy=buy.id, title=buy.title, member_id=ctx.event.sender_id)
        posted = await self._header(ctx, buy, now)
        await self._tell_private(ctx, f"✅ 已开团「{buy.title}」(编号 {buy.id}),接龙已发到:{posted}")

    async def _open(self, ctx: Context, command: BuyCommand, now: datetime) -> None:
        if not command.name:
            await self._reply(ctx, "开哪个团?发「开团 团名」,或新开:" + NEW_BUY)
            return
        named = find_buy(
            ctx.services.config, self._groups(ctx), command.name, "开团", now, open_only=False, private=ctx.private
        )
        buy = named.buy
        if buy is None:
            hint = "新开团请写:" + NEW_BUY
            await self._reply(ctx, named.problem + hint)
            return
        if buy.cutoff is not None and buy.cutoff <= now:
            when = when_text(buy.cutoff, ctx.services.config)
            await self._reply(ctx, f"「{buy.title}」已于{when}截单;要再开放,发「延长截单 {buy.title} 时间」")
            return
        if buy.opens is not None and buy.opens > now:  # opened early: the plan moves, the scheduled header goes
            await save_plan_change(ctx.services, buy, {"opens": now.isoformat()}, ctx.event.sender_id)
            await replan(ctx.services, buy.id)
            buy = ctx.services.config.buy(buy.id) or buy
        posted = await self._header(ctx, buy, now)
        await self._tell_private(ctx, f"✅ 已开团「{buy.title}」,接龙已发到:{posted}")

    async def _close(self, ctx: Context, command: BuyCommand, now: datetime) -> None:
        buy = await self._named(ctx, command, now)
        if buy is None:
            return
        services = ctx.services
        if buy.cutoff is not None and buy.cutoff <= now:
            await self._reply(ctx, f"「{buy.title}」已于{when_text(buy.cutoff, services.config)}截单了。")
            return
        await save_plan_change(services, buy, {"cutoff": now.isoformat()}, ctx.event.sender_id)
        await replan(services, buy.id)
        buy = services.config.buy(buy.id) or buy
        posted = []
        for group, room in self._rooms(ctx, buy):
            async with services.db.transaction() as session:
                text = cutoff_text(buy, Live(summary=await load_summary(session, services.config, buy, group)))
                await services.sender.enqueue(
                    Outbound(room, text), group=group, kind=LEADER_POST, key=self._key(ctx, "cutoff", buy, group, now)
                )
                await session.execute(update(GroupBuy).where(GroupBuy.id == buy.id).values(closed_at=now))
            posted.append(group)
        done = f"✅ 已截单「{buy.title}」,已通知:{'、'.join(posted) or '(没有群)'}"
        async with services.db.sessions() as session:
            status = await load_status(session, services.config, buy)  # 成团 counts members in every group
        if status.formed:
            await self._tell_private(ctx, done)
            return
        short = f"「{buy.title}」未成团(差{status.missing}人)。{unformed_hint(buy)}"
        if ctx.private:
            await self._reply(ctx, f"{done}\n{short}")
        else:  # in the group the cutoff post is the answer; what to do next is the leader's alone
            key = f"unformed:{buy.id}:{ctx.event.msg_id}"
            await services.sender.enqueue(Outbound(ctx.event.sender_id, short), group=None, kind="summary", key=key)

    async def _extend(self, ctx: Context, command: BuyCommand, now: datetime) -> None:
        if command.when is None:
            await self._reply(ctx, f"没看懂截单时间「{command.when_text}」,可以这样写:{TIMES}")
            return
        buy = await self._named(ctx, command, now, open_only=False)
        if buy is None:
            return
        services, when = ctx.services, command.when
        if when <= now or (buy.opens is not None and when <= buy.opens):
            await self._reply(ctx, f"截单时间要在现在之后({when_text(when, services.config)}已经过了)。")
            return
        await save_plan_change(services, buy, {"cutoff": when.isoformat()}, ctx.event.sender_id)
        async with services.db.transaction() as session:  # closed already: open again until the new cutoff
            await session.execute(update(GroupBuy).where(GroupBuy.id == buy.id).values(closed_at=None))
            # lines refused as too late count again: the next copy holding them records them
            await session.execute(delete(ChainLine).where(ChainLine.buy_id == buy.id, ChainLine.status == "late"))
        for state in [k for k in services.chain.states if k[0] == buy.id]:
            del services.chain.states[state]  # rebuilt from the store, without them
        await replan(services, buy.id)
        said = when_text(when, services.config)
        text = f"⏰ {buy.title} 截单时间改到{said},还没接龙的邻居抓紧啦~"
        posted = []
        for group, room in self._rooms(ctx, buy):
            key = f"cutoff_moved:{buy.id}:{group}:{ctx.event.msg_id}"
            # the leader's answer in each group (said where they paused the bot, never held by the same-text window)
            await services.sender.enqueue(Outbound(room, text), group=group, kind="summary", key=key)
            posted.append(group)
        await self._tell_private(ctx, f"✅ 「{buy.title}」截单改到{said},已通知:{'、'.join(posted) or '(没有群)'}")

    async def _stock(self, ctx: Context, command: BuyCommand, now: datetime) -> None:
        name = command.name or command.product
        named = find_buy(
            ctx.services.config, self._groups(ctx), name, command.verb, now, open_only=True, private=ctx.private
        )
        buy = named.buy
        if buy is None:
            await self._reply(ctx, named.problem)
            return
        product = ctx.services.config.product(command.product)
        product_name = product.name if product is not None else command.product
        if not any(i.product == product_name for i in buy.items):
            await self._reply(ctx, f"「{buy.title}」里没有「{command.product}」。")
            return
        assert command.units is not None
        done = await restock(
            ctx.services,
            buy,
            product_name,
            command.units,
            add=command.verb == "加库存",
            event=ctx.event,
            group=ctx.group.name,
            group_id=ctx.group_id,
        )
        unit = next((i.unit or "" for i in buy.items if i.product == product_name), "")
        moved = f",{len(done.events)}位候补转正" if done.events else ""
        await self._reply(ctx, f"✅ 「{buy.title}」{product_name}还剩{done.left}{unit}{moved}")

    # --- helpers -------------------------------------------------------------------------------------------------

    async def _named(self, ctx: Context, command: BuyCommand, now: datetime, *, open_only: bool = True) -> Buy | None:
        groups = self._groups(ctx)
        named = find_buy(
            ctx.services.config, groups, command.name, command.verb, now, open_only=open_only, private=ctx.private
        )
        if named.buy is None:
            await self._reply(ctx, named.problem)
        return named.buy

    async def _header(self, ctx: Context, buy: Buy, now: datetime) -> str:
        """The 接龙 header in each of the buy's groups, keyed as the scheduler's `buy_open` firing at `now`."""
        config, posted = ctx.services.config, []
        for group, room in self._rooms(ctx, buy):
            text = buy_open_text(config, buy, config.group(group))  # type: ignore[arg-type]
            key = self._key(ctx, "buy_open", buy, group, now)
            await ctx.services.sender.enqueue(Outbound(room, text), group=group, kind=LEADER_POST, key=key)
            posted.append(group)
        return "、".join(posted) or "(没有群:我还没进过这个团的群)"

    def _rooms(self, ctx: Context, buy: Buy) -> list[tuple[str, str]]:
        """(group, room) of the buy's groups the bot has a room for."""
        found = []
        for group in ctx.services.config.groups_of(buy.groups):
            room = ctx.services.groups.room_of(group.name)
            if room is None:
                ctx.log.warning("post_skipped_no_room", buy=buy.id, group=group.name)
                continue
            found.append((group.name, room))
        return found

    def _key(self, ctx: Context, kind: str, buy: Buy, group: str, at: datetime) -> str:
        """`scheduler.firing.firing_key` of the job `kind:buy:group` at `at`: said once, whoever says it."""
        return f"{kind}:{buy.id}:{group}@{at.astimezone(ctx.services.config.tz).isoformat()}"

    def _groups(self, ctx: Context) -> list[str]:
        if not ctx.private:
            return [ctx.group.name]
        return [g.name for g in ctx.services.config.groups if listed(g, ctx.event)]

    async def _reply(self, ctx: Context, text: str) -> None:
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, text), group=ctx.reply_group, kind="summary", key=f"reply:{ctx.event.msg_id}"
        )

    async def _tell_private(self, ctx: Context, text: str) -> None:
        """In private the leader hears what was done; in the group the post itself is the answer."""
        if ctx.private:
            await self._reply(ctx, text)
