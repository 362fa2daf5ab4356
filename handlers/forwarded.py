"""A leader forwards a 接龙 to the bot privately — a chat record (合并转发) or a native 接龙 card — and gets its tally.

For a group the bot is not in: the copies in the forwarded material are folded in order (`bot.domain.forwarded`),
matched against the catalogue (unknown products flagged), and the summary goes back privately. Nothing is stored as
an order of any buy. A bare `导出` in the same private chat within `KEEP` afterwards sends THAT tally as an xlsx.

The last tally is kept per leader (wxid) in this handler's memory, not in a table: it is a convenience for the next
half hour, the forwarded message itself is in the message log, and a restart costs the leader one more forward —
no migration, nothing to expire in the store, nothing another process must see (a leader's private chat is one room,
so one worker handles it). After the half hour, or without a forward, `导出` is the buy's export as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.leaders import listed
from bot.domain.buys import buy_named_in, single_product
from bot.domain.export import export_xlsx
from bot.domain.forwarded import ForwardedChain, Message, export_buy, format_tallies, summarize_chain, tally
from bot.events import Kind, Outbound
from bot.parsing.native import parse_native
from bot.parsing.record import parse_record

if TYPE_CHECKING:
    from bot.config import Buy
    from bot.dispatch import Context
    from bot.domain.summary import BuySummary

KEEP = timedelta(minutes=30)
UNREADABLE = "看不懂这条转发 😅 请把群里的接龙(或聊天记录)直接转发给我,或者把接龙文字复制发给我。"
NO_CHAIN = "这条转发里没有找到接龙。请转发包含接龙的聊天记录,或接龙本身。"


@dataclass(frozen=True)
class _Kept:
    at: datetime
    source: str
    tallies: tuple[tuple[ForwardedChain, BuySummary], ...]


class ForwardedChains:
    name = "forwarded_chains"
    serves_private = True  # private only: in a group, forwarded material is nobody's route

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}  # leader wxid → the last tally they forwarded

    def wants(self, ctx: Context) -> bool:
        event = ctx.event
        if not ctx.private:
            return False
        if event.kind in (Kind.CHAT_RECORD, Kind.NATIVE_CHAIN):
            return True
        kept = self._kept.get(event.sender_id)
        fresh = kept is not None and ctx.services.clock.now() - kept.at <= KEEP
        read = ctx.command  # a bare 导出 (`导出 团名` is the named buy's export)
        return fresh and read is not None and read.verb == "导出" and not read.arg

    async def handle(self, ctx: Context) -> None:
        services, event = ctx.services, ctx.event
        command = "导出" if event.kind == Kind.TEXT else "转发接龙"
        if not ctx.is_leader or not await services.leaders.confirm(
            ctx.group, event, services.clock.now(), services.sender, command
        ):
            ctx.command_refused(command)
            return
        ctx.command_run(command)
        if event.kind == Kind.TEXT:
            await self._export(ctx)
            return
        read = self._messages(ctx)
        if read is None:
            ctx.log.info("forward_unreadable", kind=str(event.kind), size=len(event.text))
            await self._reply(ctx, UNREADABLE)
            return
        source, messages = read
        max_lines = services.config.chain.max_lines
        chains = tally(messages, services.product_matcher(), lambda header: self._buy_of(ctx, header), max_lines)
        if not chains:
            ctx.log.info("forward_no_chain", messages=len(messages))
            await self._reply(ctx, NO_CHAIN)
            return
        tallies = tuple((c, summarize_chain(services.config, c, source)) for c in chains)
        self._kept[event.sender_id] = _Kept(services.clock.now(), source, tallies)
        await self._reply(ctx, format_tallies(tallies, source))
        ctx.log.info(
            "forward_tallied",
            member_id=event.sender_id,
            messages=len(messages),
            chains=len(chains),
            lines=sum(len(s.lines) for _, s in tallies),
        )

    def _messages(self, ctx: Context) -> tuple[str, list[Message]] | None:
        """(where the material is from, its messages in order); None when it cannot be read."""
        event = ctx.event
        if event.kind == Kind.NATIVE_CHAIN:
            native = parse_native(event.text)
            if native is None:
                return None
            authors = tuple(e.author for e in native.entries) if native.used_ranges else None
            return "接龙卡片", [Message(native.creator or "", native.title, authors)]
        record = parse_record(event.text)
        if record is None:
            return None
        source = f"「{record.title}」" if record.title else "聊天记录"
        return source, [Message(item.sender, item.text) for item in record.items]

    def _buy_of(self, ctx: Context, header: str) -> tuple[Buy | None, str | None]:
        """The buy of the leader's groups that the header names (its single product is what a bare quantity
        means); else the one catalogue product the header names, if exactly one."""
        config, now = ctx.services.config, ctx.services.clock.now()
        for group in (g.name for g in config.groups if listed(g, ctx.event)):
            buy = buy_named_in(config, group, header, now)
            if buy is not None:
                return buy, single_product(buy)
        named = [p.name for p in config.catalogue if any(n and n in header for n in p.names)]
        return None, named[0] if len(named) == 1 else None

    async def _export(self, ctx: Context) -> None:
        services, event = ctx.services, ctx.event
        kept = self._kept[event.sender_id]
        stamp = services.clock.now().astimezone(services.config.tz).strftime("%Y%m%d-%H%M")
        folder = services.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for i, (chain, summary) in enumerate(kept.tallies, 1):
            suffix = f"-{i}" if len(kept.tallies) > 1 else ""
            path = folder / f"forwarded-{stamp}{suffix}.xlsx"
            export_xlsx(summary, export_buy(chain), path)
            files.append(path)
            ctx.log.info("export_written", forwarded=True, path=str(path), lines=len(summary.lines))
        titles = "、".join(chain.title for chain, _ in kept.tallies)
        await self._reply(ctx, f"📄 转发的接龙 {titles} 已导出(含明细、汇总、自提三张表),文件发给你了。")
        for i, path in enumerate(files):
            await services.sender.enqueue(
                Outbound(event.room_id, path.name, file=str(path)),
                group=None,
                kind="file",
                key=f"export_file:{event.msg_id}:{i}",
            )

    async def _reply(self, ctx: Context, text: str) -> None:
        await ctx.services.sender.enqueue(
            Outbound(ctx.event.room_id, text), group=None, kind="summary", key=f"reply:{ctx.event.msg_id}"
        )
