"""The merge rules as properties: replays change nothing, racing copies merge the same in any order, and a later
copy never loses an order."""

from __future__ import annotations

from itertools import permutations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing.chain import parse_chain
from bot.parsing.chain_reader import ChainReader
from bot.parsing.merge import ChainState, LineState, Seen, ident
from bot.parsing.products import ProductMatcher

MATCHER = ProductMatcher([("草莓", ("丹东草莓",)), ("蓝莓", ()), ("土鸡蛋", ("鸡蛋",))])
HEADER = "#接龙 周六水果团\n例 3栋 王阿姨 草莓1盒"
NAMES = ["王阿姨", "李姐", "何姐", "陈叔", "小周", "刘妈妈", "张姐", "赵哥", "孙奶奶", "周老师"]
PRODUCTS = ["草莓", "蓝莓", "土鸡蛋"]


def line(i: int, product: int, qty: int) -> str:
    return f"{i + 1}栋 {NAMES[i]} {PRODUCTS[product]}{qty}盒"


def message(lines: list[str]) -> str:
    return HEADER + "\n\n" + "\n".join(f"{n}. {text}" for n, text in enumerate(lines, 1))


def apply(state: ChainState, sender: int, lines: list[str]) -> list[str]:
    parsed = parse_chain(message(lines), MATCHER)
    changes = state.apply([Seen(e) for e in parsed.entries], f"wxid_{sender}", NAMES[sender])
    return [c.kind for c in changes]


def active(state: ChainState) -> set[str]:
    return {ln.key for ln in state.active()}


orders = st.lists(
    st.tuples(st.integers(0, len(NAMES) - 1), st.integers(0, 2), st.integers(1, 9)),
    min_size=1,
    max_size=8,
    unique_by=lambda t: t[0],
)


@settings(max_examples=60, deadline=None)
@given(orders, st.data())
def test_replaying_any_message_changes_nothing(entries: list[tuple[int, int, int]], data: st.DataObject) -> None:
    state = ChainState()
    history: list[tuple[int, list[str]]] = []
    lines: list[str] = []
    for who, product, qty in entries:
        lines = [*lines, line(who, product, qty)]
        apply(state, who, lines)
        history.append((who, lines))
    before = {k: (v.status, v.author) for k, v in state.lines.items()}
    sender, replayed = data.draw(st.sampled_from(history))
    assert apply(state, sender, replayed) == []
    assert {k: (v.status, v.author) for k, v in state.lines.items()} == before


@settings(max_examples=40, deadline=None)
@given(orders, st.lists(st.tuples(st.integers(0, 2), st.integers(1, 9)), min_size=2, max_size=4))
def test_racing_copies_merge_to_the_same_orders_in_any_order(
    base: list[tuple[int, int, int]], racers: list[tuple[int, int]]
) -> None:
    taken = {who for who, _, _ in base}
    free = [i for i in range(len(NAMES)) if i not in taken][: len(racers)]
    base_lines = [line(who, p, q) for who, p, q in base]
    copies = [(who, [*base_lines, line(who, p, q)]) for who, (p, q) in zip(free, racers, strict=False)]
    results = set()
    for order in permutations(copies):
        state = ChainState()
        apply(state, base[0][0], base_lines)
        for sender, lines in order:
            apply(state, sender, lines)
        results.add(frozenset(active(state)))
    assert len(results) == 1
    assert len(next(iter(results))) == len(base_lines) + len(copies)


@settings(max_examples=60, deadline=None)
@given(orders, st.data())
def test_a_later_copy_never_loses_an_order(entries: list[tuple[int, int, int]], data: st.DataObject) -> None:
    state = ChainState()
    lines: list[str] = []
    for who, product, qty in entries:
        lines = [*lines, line(who, product, qty)]
        apply(state, who, lines)
    everything = active(state)
    # someone copies an older, shorter list (any subset, in order) and adds their own line
    kept = data.draw(st.lists(st.sampled_from(lines), unique=True)) if lines else []
    newcomer = next(i for i in range(len(NAMES)) if i not in {w for w, _, _ in entries} or i == len(NAMES) - 1)
    apply(state, newcomer, [*kept, line(newcomer, 0, 1)])
    assert everything <= active(state) | {k for k, v in state.lines.items() if v.status == "replaced"}
    assert len(active(state)) >= len(everything)


# --- healing (#17): whatever the bot missed, the next full copy is the evidence ---------------------------------------

HEAL_NAMES = ["王阿姨", "李阿姨", "李姐", "何姐", "陈", "陈叔", "小周", "刘妈妈"]


def _heal_label(i: int) -> str:
    return f"{i + 1}栋 {HEAL_NAMES[i]}"


def _mistake(text: str, how: int) -> str:
    """What a careless copier does to someone else's line: drops the unit, or doubles a space."""
    return text[:-1] if how % 2 == 0 and text.endswith("盒") else text.replace(" ", "  ", 1)


actions = st.lists(
    st.tuples(
        st.sampled_from(["join", "join", "edit", "cancel", "join_with_mistake"]),
        st.integers(0, len(HEAL_NAMES) - 1),
        st.integers(0, 99),
        st.booleans(),  # does the bot see this message?
    ),
    min_size=1,
    max_size=24,
)


@settings(max_examples=150, deadline=None)
@given(actions)
def test_the_next_full_copy_heals_whatever_the_bot_missed(steps: list[tuple[str, int, int, bool]]) -> None:
    """Members join, edit their line, cancel it, and copiers alter others' lines; the bot misses any of these
    messages. After one more full copy (the leader resends the list), the bot's orders are the group's: each member's
    last text, no second order for an edit or a copier's alteration, every cancel applied and nobody else's."""
    reader, state = ChainReader(MATCHER), ChainState()
    rows: list[list[Any]] = []  # the list as the group sees it: [member, text, qty, product, cancelled]
    qty: dict[int, int] = {}
    done: set[int] = set()

    def send(sender: str, seen: bool) -> None:
        copy = reader.read_copy(message([row[1] for row in rows]))
        if seen:
            state.fold(copy, f"wx_{sender}", sender)

    for kind, who, seed, seen in steps:
        mine = next((row for row in rows if row[0] == who), None)
        if who in done:
            continue
        if kind.startswith("join") and mine is None:
            qty[who] = seed % 3 + 1
            product = PRODUCTS[seed % 3]
            rows.append([who, f"{_heal_label(who)} {product}{qty[who]}盒", qty[who], product, False])
            others = [row for row in rows[:-1] if not row[4]]
            if kind == "join_with_mistake" and others:
                victim = others[seed % len(others)]
                victim[1] = _mistake(victim[1], seed)
        elif kind == "edit" and mine is not None:
            qty[who] += 1 + seed % 2  # a text never seen before (edits back are the owner's: tested case by case)
            mine[1], mine[2] = f"{_heal_label(who)} {mine[3]}{qty[who]}盒", qty[who]
        elif kind == "cancel" and mine is not None:
            mine[1], mine[4] = f"{_heal_label(who)} 不要了", True
            done.add(who)
        else:
            continue
        send(HEAL_NAMES[who], seen)
    if not rows:
        return
    send("团长", True)  # the next full copy
    truth = sorted((ident(_heal_label(r[0])), r[3], r[2]) for r in rows if not r[4])
    ours = sorted((ident(ln.who), it.product, int(it.qty)) for ln in state.active() for it in (ln.items or ()))
    assert ours == truth


stale_actions = st.lists(
    st.tuples(
        st.sampled_from(["join", "join", "edit", "edit", "back", "cancel", "empty", "stale"]),
        st.integers(0, len(HEAL_NAMES) - 1),
        st.integers(0, 99),
        st.booleans(),  # does the bot see this message?
    ),
    min_size=1,
    max_size=24,
)


@settings(max_examples=150, deadline=None)
@given(stale_actions)
def test_copies_of_old_lists_and_bare_labels_heal_too(steps: list[tuple[str, int, int, bool]]) -> None:
    """As above, and members also edit back to their line's text before, re-send a copy of an older list (1-3
    copies back, their own line in it as it is now: it changes nothing) and empty their line to the bare label; any
    of these messages missed, and the bot restarted from what it stored at any point. After one more full copy, the
    bot's orders are the group's."""
    reader, state = ChainReader(MATCHER), ChainState()
    rows: list[list[Any]] = []  # [member, text, qty, product, cancelled]
    history: list[list[str]] = []
    qty: dict[int, int] = {}
    before: dict[int, int] = {}  # the quantity a member's line had before their last edit
    done: set[int] = set()

    def send(sender: str, texts: list[str], seen: bool) -> None:
        copy = reader.read_copy(message(texts))
        if seen:
            state.fold(copy, f"wx_{sender}", sender)

    for n, (kind, who, seed, seen) in enumerate(steps):
        mine = next((row for row in rows if row[0] == who), None)
        if kind == "stale" and history:
            old = history[max(0, len(history) - 1 - seed % 3)]
            if mine is not None and mine[1] in old:  # their own line as it is now: an old list, not an edit back
                send(HEAL_NAMES[who], old, seen)
            continue
        if who in done:
            continue
        if kind == "join" and mine is None:
            qty[who] = seed % 3 + 1
            product = PRODUCTS[seed % 3]
            rows.append([who, f"{_heal_label(who)} {product}{qty[who]}盒", qty[who], product, False])
        elif kind in ("edit", "back") and mine is not None and (kind == "edit" or who in before):
            before[who], qty[who] = qty[who], before[who] if kind == "back" else qty[who] + 1 + seed % 2
            mine[1], mine[2] = f"{_heal_label(who)} {mine[3]}{qty[who]}盒", qty[who]
        elif kind in ("cancel", "empty") and mine is not None:
            mine[1], mine[4] = f"{_heal_label(who)}{' 不要了' if kind == 'cancel' else ''}", True
            done.add(who)
        else:
            continue
        texts = [row[1] for row in rows]
        history.append(texts)
        send(HEAL_NAMES[who], texts, seen)
        if seed % 7 == n % 7:  # a restart: the state as the store holds it
            state = ChainState.of(
                LineState(ln.key, ln.who, ln.author, ln.status, said=ln.items, born=ln.born)
                for ln in state.lines.values()
            )
    if not rows:
        return
    # a newcomer joins, then the next full copy: a copy holding a line first seen after a member's last edit is what
    # proves that member's edit back the bot missed (without one, it cannot be told from a race: decisions.md)
    rows.append([len(HEAL_NAMES), "99栋 新人 草莓1盒", 1, "草莓", False])
    send("新人", [row[1] for row in rows], True)
    send("团长", [row[1] for row in rows], True)
    truth = sorted((ident(r[1].rsplit(" ", 1)[0]), r[3], r[2]) for r in rows if not r[4])
    ours = sorted((ident(ln.who), it.product, int(it.qty)) for ln in state.active() for it in (ln.items or ()))
    assert ours == truth
