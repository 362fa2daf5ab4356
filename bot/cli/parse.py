"""`tuanbot parse`: what the bot makes of a sequence of chain messages, without a store — for leaders checking a
list and for engineers checking the parser. Files are whole messages in arrival order; a first line
`@sender: NAME` says who sent it. The JSON shape is stable.

The messages go through the bot's own engine: a `ChainReader` per chain (known by its first line, as the bot knows
it) and `ChainState.fold`, so each copy costs its new lines and the orders are the bot's."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.parsing.chain import ChainEntry, chain_header
from bot.parsing.chain_reader import ChainReader
from bot.parsing.merge import ACTIVE, CANCELLED, ChainState
from bot.parsing.native import looks_native, parse_native
from bot.parsing.products import ProductMatcher


@dataclass
class MergedChain:
    header: str
    state: ChainState = field(default_factory=ChainState)
    senders: dict[str, str | None] = field(default_factory=dict)  # line key → sender name of its author
    seq: dict[str, int | None] = field(default_factory=dict)  # line key → the number it was last seen under
    last_copy: int | None = None  # the serial of the last copy merged (its numbers are those in `seq`)
    me: dict[str, str | None] = field(default_factory=dict)  # line key → the sender of a line that says 我 (我要2份)


def read_message(path: Path) -> tuple[str | None, str]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    if "\r" in text:  # what reading in text mode (universal newlines) does, without its cost per character
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    first, _, rest = text.partition("\n")
    if first.startswith("@") and ":" in first:
        return first[1:].split(":", 1)[1].strip() or None, rest
    return None, text


def _chain_key(text: str) -> str:
    """What the bot knows a chain by, to give each chain its own reader: its first line."""
    newline = text.find("\n")
    return text[:newline] if newline >= 0 else text[:200]


def merge_messages(
    messages: list[tuple[str | None, str]], matcher: ProductMatcher | None, default_product: str | None = None
) -> list[MergedChain]:
    chains: dict[str, MergedChain] = {}
    readers: dict[str, ChainReader] = {}
    for sender, text in messages:
        authors: list[str | None] | None = None
        if looks_native(text):
            native = parse_native(text)
            if native is not None:
                text = native.title
                authors = [e.author for e in native.entries] if native.used_ranges else None
        reader = readers.get(_chain_key(text))
        if reader is None:
            reader = readers[_chain_key(text)] = ChainReader(matcher, default_product=default_product)
        copy = reader.read_copy(text)
        parsed = copy.parsed
        if not parsed.entries and not parsed.header:
            continue
        key = parsed.header.strip() or "(no header)"
        chain = chains.setdefault(key, MergedChain(header=parsed.header))
        if authors is not None and len(authors) != len(parsed.entries):
            authors = None
        for change in chain.state.fold(copy, sender or "", sender or "", authors=authors):
            chain.senders[change.line.key] = change.line.author or None
            if change.line.who == "我":
                chain.me[change.line.key] = sender
            chain.seq[change.line.key] = change.line.entry.seq if change.line.entry else None
        # The latest number a line was seen under. A copy that extends the last one merged repeats its lines under
        # the same numbers: only its new lines can renumber.
        since = copy.repeated if copy.extends is not None and copy.extends == chain.last_copy else 0
        seq = chain.seq
        for entry in parsed.entries[since:]:
            if entry.key in seq:
                seq[entry.key] = entry.seq
        chain.last_copy = copy.serial
    return list(chains.values())


def _entry_json(entry: ChainEntry, seq: int | None, sender: str | None, cancelled: bool) -> dict[str, Any]:
    return {
        "seq": seq,
        "who": entry.who,
        "sender": sender,
        "items": [
            {"product": it.product, "known": it.known, "qty": float(it.qty), "unit": it.unit} for it in entry.items
        ],
        "remark": entry.remark,
        "cancelled": cancelled,
        "raw": entry.raw,
    }


def as_json(chains: list[MergedChain]) -> dict[str, Any]:
    out = []
    for chain in chains:
        entries = []
        for line in chain.state.lines.values():
            if line.status not in (ACTIVE, CANCELLED) or line.entry is None:
                continue
            entry = line.entry
            if entry.who == "我":  # 我要2份: the sender of the message that first held it, when known
                me = chain.me.get(line.key)
                if me is None:
                    continue  # nobody to order for
                entry = replace(entry, who=me)
            entries.append(
                _entry_json(entry, chain.seq.get(line.key), chain.senders.get(line.key), line.status == CANCELLED)
            )
        out.append({"header": chain.header, "entries": entries})
    return {"chains": out}


def as_text(chains: list[MergedChain]) -> str:
    lines: list[str] = []
    for chain in as_json(chains)["chains"]:
        lines.append(chain["header"] or "(no header)")
        for i, e in enumerate(chain["entries"], 1):
            items = " ".join(
                f"{it['product'] or '?'}{'' if it['known'] else '(?)'}×{it['qty']:g}{it['unit'] or ''}"
                for it in e["items"]
            )
            tail = " [取消]" if e["cancelled"] else ""
            by = f"  ← {e['sender']}" if e["sender"] else ""
            remark = f"  备注:{e['remark']}" if e["remark"] else ""
            lines.append(f"{i:>3}. {e['who'] or '(无名)'} | {items or '(无商品)'}{remark}{tail}{by}")
        lines.append("")
    return "\n".join(lines)


def cmd_parse(args: argparse.Namespace) -> int:
    matcher: ProductMatcher | None = None
    default_product: str | None = None
    if args.config:
        from bot.config import ConfigError, load_config
        from bot.domain.buys import buy_named_in, single_product

        try:
            config = load_config(args.config)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 1
        matcher = ProductMatcher([(p.name, tuple(p.aliases)) for p in config.catalogue])
    messages: list[tuple[str | None, str]] = []
    for name in args.files:
        try:
            messages.append(read_message(Path(name)))
        except OSError as exc:
            print(f"tuanbot parse: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    if args.config and config.groups and messages:
        header = chain_header(messages[0][1])
        buy = buy_named_in(config, config.groups[0].name, header, datetime.max.replace(tzinfo=config.tz))
        default_product = single_product(buy) if buy else None
    chains = merge_messages(messages, matcher, default_product)
    if args.json:
        print(json.dumps(as_json(chains), ensure_ascii=False))
    else:
        print(as_text(chains))
    return 0


def add_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("parse", parents=[common], help="parse and merge chain messages (files in arrival order)")
    p.add_argument("--config", help="the catalogue to match products against (default: every product unknown)")
    p.add_argument("--json", action="store_true", help="stable JSON output")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_parse)
