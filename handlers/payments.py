"""Payments, leaders only, in the group or privately (#15): `已收 LABEL [金额]` marks a participant paid (answered where
it was typed); `未付 [团]` lists who has not paid, with amounts and the total — to the leader privately, wherever it
was typed (the group sees nothing), unless the leader asks for it in the group there (`未付 发群`).

Anyone else typing `已收` / `未付` gets nothing. A form a leader says in passing (`王阿姨已付`, `收到王阿姨的钱`) is
a command only for a leader and only when the label is found; otherwise the bot stays quiet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.leaders import listed
from bot.domain.payments import mark_paid, unpaid_lists
from bot.events import Kind, Outbound
from bot.parsing.payments import PaymentCommand, read_payment_command

if TYPE_CHECKING:
    from bot.dispatch import Context


class Payments:
    name = "payments"
    serves_private = True  # a leader's commands work one to one with the bot too

    def wants(self, ctx: Context) -> bool:
        if ctx.event.kind != Kind.TEXT:
            return False
        command = read_payment_command(ctx.event.text)
        return command is not None and (ctx.is_leader or not command.loose)

    async def handle(self, ctx: Context) -> None:
        services, now = ctx.services, ctx.services.clock.now()
        command = read_payment_command(ctx.event.text)
        assert command is not None
        if not ctx.is_leader or not await services.leaders.confirm(
            ctx.group, ctx.event, now, services.sender, command.verb
        ):
            ctx.log.info("command_refused", command=command.verb, reason="not_a_leader", member_id=ctx.event.sender_id)
            return
        groups = self._groups(ctx)
        if command.verb == "已收":
            await self._received(ctx, command, groups)
        else:
            await self._unpaid(ctx, command, groups)

    async def _received(self, ctx: Context, command: PaymentCommand, groups: list[str]) -> None:
        services = ctx.services
        by, now = ctx.event.sender_id, services.clock.now()
        marked = await mark_paid(services, groups, command.label, command.amount, by, now)
        if not marked.found and command.loose:  # `货款已付` said in passing: not about a participant
            ctx.log.info("payment_not_matched", label=command.label, member_id=by)
            return
        amount = str(command.amount) if command.amount is not None else None
        found = marked.found
        ctx.log.info("command_run", command="已收", label=command.label, amount=amount, member_id=by, found=found)
        await self._send(ctx, ctx.event.room_id, marked.text, ctx.reply_group)

    async def _unpaid(self, ctx: Context, command: PaymentCommand, groups: list[str]) -> None:
        services = ctx.services
        if command.to_group and ctx.private:
            await self._send(ctx, ctx.event.room_id, "要发到群里,请在那个群里发「未付 发群」。", None)
            return
        where = "你带的群" if ctx.private else "本群"
        texts = await unpaid_lists(services, groups, command.buy, services.clock.now(), where=where)
        if command.to_group:  # the leader asked for it in the group, there
            room, group = ctx.event.room_id, ctx.reply_group
        else:  # what only the leader needs goes to the leader, one to one, wherever it was asked for
            room, group = ctx.event.sender_id, None
        for i, text in enumerate(texts):
            await self._send(ctx, room, text, group, i)
        ctx.log.info(
            "command_run", command="未付", buy=command.buy, to_group=command.to_group, member_id=ctx.event.sender_id
        )

    async def _send(self, ctx: Context, room: str, text: str, group: str | None, i: int = 0) -> None:
        key = f"reply:{ctx.event.msg_id}" + (f":{i}" if i else "")
        await ctx.services.sender.enqueue(Outbound(room, text), group=group, kind="summary", key=key)

    def _groups(self, ctx: Context) -> list[str]:
        """This group; in private, every group the leader leads."""
        if not ctx.private:
            return [ctx.group.name]
        return [g.name for g in ctx.services.config.groups if listed(g, ctx.event)]
