"""A 接龙 forwarded to the bot privately (a chat record or a native card) → a tally against the catalogue.

Pure: messages in, a summary out; nothing is stored as an order of any buy (the 接龙 is from a group the bot may not
be in). The copies go through the bot's one chain engine — a `ChainReader` per chain (known by its first line) and
`ChainState.fold`, in the record's order — so several copies of the same 接龙 heal each other as they do in a group:
a line is counted once, an edit replaces the writer's line, `不要了` cancels it. The result is a `BuySummary` (the
one summary implementation), so the leader's `导出` writes it with `bot.domain.export` like any buy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.config import Buy
from bot.domain.money import Prices, UnitPrice
from bot.domain.summary import BuySummary, ItemQty, OrderView, summarize
from bot.parsing.chain import chain_header, is_chain
from bot.parsing.chain_reader import ChainReader
from bot.parsing.merge import ACTIVE, CANCELLED, ChainState, LineState

if TYPE_CHECKING:
    from bot.config import Config
    from bot.parsing.products import ProductMatcher

__all__ = ["ForwardedChain", "Message", "export_buy", "format_tallies", "summarize_chain", "tally"]


@dataclass(frozen=True, slots=True)
class Message:
    """One message carrying (maybe) a copy of a 接龙: who sent it, its text, and per entry the writer when known."""

    sender: str
    text: str
    authors: tuple[str | None, ...] | None = None  # from a native card's ranges, one per entry


@dataclass
class ForwardedChain:
    header: str  # the text above the list, as the first copy wrote it
    buy: Buy | None  # the configured buy the header names, when it names one (its prices and 成团 rules apply)
    state: ChainState = field(default_factory=ChainState)
    copies: int = 0  # messages that carried a copy of this 接龙
    place: dict[str, int] = field(default_factory=dict)  # line key → its number in the last copy holding it

    @property
    def title(self) -> str:
        first = self.header.strip().split("\n", 1)[0].strip()
        return first or (self.buy.title if self.buy else "接龙")

    def lines(self, status: str) -> list[LineState]:
        """The lines with `status`, in the order of the list as last written (an edited line keeps its place)."""
        lines = [ln for ln in self.state.lines.values() if ln.status == status and ln.entry is not None]
        return sorted(lines, key=lambda ln: self.place.get(ln.key, 1 << 30))


def _key(text: str) -> str:
    newline = text.find("\n")
    return text[:newline] if newline >= 0 else text[:200]


def tally(
    messages: Sequence[Message],
    matcher: ProductMatcher | None,
    buy_of: Callable[[str], tuple[Buy | None, str | None]],
    max_lines: int,
) -> list[ForwardedChain]:
    """Fold the 接龙 copies among `messages` (chatter is passed over), one chain per first line, in first-seen
    order. `buy_of(header)`: the configured buy the header names and the product a bare quantity means."""
    chains: dict[str, ForwardedChain] = {}
    readers: dict[str, ChainReader] = {}
    for message in messages:
        if message.authors is None and not is_chain(message.text):
            continue
        key = _key(message.text)
        reader = readers.get(key)
        if reader is None:
            _, product = buy_of(chain_header(message.text))
            reader = readers[key] = ChainReader(matcher, default_product=product)
        copy = reader.read_copy(message.text)
        parsed = copy.parsed
        if not parsed.entries:
            continue
        if len(copy.keys) > max_lines:  # a flood: its first lines only, as in a group
            parsed = dataclasses.replace(parsed, entries=parsed.entries[:max_lines])
            copy = copy._replace(parsed=parsed, keys=copy.keys[:max_lines], repeated=min(copy.repeated, max_lines))
        chain = chains.get(key)
        if chain is None:
            chain = chains[key] = ForwardedChain(parsed.header, buy_of(parsed.header)[0])
        authors = message.authors if message.authors and len(message.authors) == len(parsed.entries) else None
        chain.state.fold(copy, message.sender, message.sender, authors=authors)
        chain.copies += 1
        for i, entry in enumerate(parsed.entries):
            chain.place[entry.key] = entry.seq if entry.seq is not None else i + 1
    return [c for c in chains.values() if c.state.lines]


def export_buy(chain: ForwardedChain) -> Buy:
    """The buy a summary and a workbook are written for: the one the header names, else a bare stand-in."""
    if chain.buy is not None:
        return chain.buy
    return Buy.model_construct(id="forwarded", title=chain.title, groups=[], items=[], min_members=None, ladder=[])


def summarize_chain(config: Config, chain: ForwardedChain, source: str) -> BuySummary:
    """The chain's active lines as a summary (`source` fills the workbook's group column)."""
    views = [
        OrderView(
            participant=ln.who,
            group=source,
            items=tuple(ItemQty(it.product or "?", it.qty, it.unit, it.known) for it in ln.entry.items),
            remark=ln.entry.remark,
        )
        for ln in chain.lines(ACTIVE)
        if ln.entry is not None
    ]
    # a group the bot is not in has no buy of ours: its amounts are at the catalogue's prices
    prices = None if chain.buy is not None else catalogue_prices(config)
    return summarize(config, export_buy(chain), views, prices=prices)


def catalogue_prices(config: Config) -> Prices:
    """Every catalogue product's own price, by name and alias (a product without one stays unpriced)."""
    by_product: dict[str, UnitPrice] = {}
    for product in config.catalogue:
        if product.price is not None:
            for name in product.names:
                by_product.setdefault(name, UnitPrice(Decimal(product.price), product.unit))
    return Prices(by_product)


def _chain_text(summary: BuySummary, chain: ForwardedChain) -> list[str]:
    out = [f"【转发汇总】{chain.title}"]
    if summary.totals:
        out.append("合计:" + ",".join(str(t) + ("(?)" if not t.known else "") for t in summary.totals))
    else:
        out.append("合计:暂无订单")
    for i, line in enumerate(summary.lines, 1):
        items = " ".join(str(it) for it in line.items) or "(未写数量)"
        remark = f" 备注:{line.remark}" if line.remark else ""
        out.append(f"{i}. {line.participant} {items}{remark}")
    cancelled = [ln.who for ln in chain.lines(CANCELLED)]
    if cancelled:
        out.append("已取消:" + "、".join(cancelled))
    unknown = [
        f"{ln.participant}({'、'.join(it.product for it in ln.items if not it.known)})" for ln in summary.unknown
    ]
    if unknown:
        out.append("待确认(商品不在目录):" + "、".join(unknown))
    out.append(f"共{len(summary.lines)}人,读了{chain.copies}份接龙")
    return out


def format_tallies(tallies: Sequence[tuple[ForwardedChain, BuySummary]], source: str) -> str:
    """The leader's answer: each chain's totals and lines, then how to get the workbook."""
    blocks = ["\n".join(_chain_text(summary, chain)) for chain, summary in tallies]
    footer = f"(来自{source};只是汇总,不记入任何团购。发「导出」把表格发给你,30分钟内有效)"
    return "\n\n".join(blocks) + "\n" + footer
