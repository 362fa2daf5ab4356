"""From what the question reader found in a message (`Reading`) to its verdict (`Understanding`): the features the
trained model (`question_model`) weighs, and the decision. Pure: no I/O.

Features: the jieba words and the characters and character pairs of the message with each product named replaced by
`#` and each FAQ term by `$` (so the model learns how people ask, not which products they ask about, and carries to
any catalogue), the keyword rules' verdict and every rule that fired, and flags (asks, aimed at another member, off
topic, @-mentions the bot, names a product).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.parsing.products import Match, ProductMatcher
from bot.parsing.question_model import NONE, Model

__all__ = ["ANSWER_THRESHOLD", "Reading", "Understanding", "decide", "features", "find_typo"]

#: the bot answers a question at or above this confidence; below it stays silent (or notes it for the leader)
ANSWER_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True)
class Understanding:
    question: bool  # a question (or complaint) for the bot to answer
    intent: str | None
    product: str | None  # canonical catalogue name when the message names one (else the group's current buy)
    confidence: float
    faq_index: int | None = None  # the config's `faq:` entry when intent == "faq"

    @property
    def answerable(self) -> bool:
        return self.question and self.intent is not None and self.confidence >= ANSWER_THRESHOLD


@dataclass(frozen=True, slots=True)
class Reading:
    body: str  # folded, mentions, openers and stickers gone, punctuation as ","
    products: tuple[Match, ...]
    candidates: tuple[tuple[str, float, list[tuple[int, int]]], ...]  # every keyword rule that fired
    faq_index: int | None
    faq_strength: float
    faq_spans: tuple[tuple[int, int], ...]
    asks: bool
    mentioned: bool
    to_leader: bool
    elsewhere: bool  # aimed at another member
    off_topic: bool
    rules: Understanding  # the keyword rules' verdict on their own


def _masked(reading: Reading) -> str:
    chars = list(reading.body)
    for a, b in reading.faq_spans:
        chars[a:b] = ["$"] + ["\0"] * (b - a - 1)
    for m in reading.products:
        chars[m.start : m.end] = ["#"] + ["\0"] * (m.end - m.start - 1)
    return "".join(chars)  # as long as the body (NULs pad a masked span), so spans still line up


def features(reading: Reading, segment: Callable[[str], Sequence[str]]) -> list[str]:
    masked = _masked(reading)
    out: dict[str, None] = {}
    pos = 0
    for word in segment(reading.body):  # the body's words (one jieba call, cached), a product's or FAQ term's masked
        start = reading.body.find(word, pos)
        if start < 0:
            continue
        pos = start + len(word)
        piece = masked[start:pos].replace("\0", "")
        if piece and piece != ",":
            out[WORD + piece] = None
    masked = masked.replace("\0", "")
    padded = "^" + masked + "$"
    for k in range(len(padded) - 1):
        out["c:" + padded[k : k + 2]] = None
    for k in range(len(padded) - 2):
        out["t:" + padded[k : k + 3]] = None
    for ch in masked:
        if ch != ",":
            out["u:" + ch] = None
    for intent, strength, _ in reading.candidates:
        out["r:" + intent] = None
        if strength >= 0.85:
            out["r+:" + intent] = None
    rules = reading.rules
    if rules.intent is not None:
        out["v:" + rules.intent] = None
        if rules.answerable:
            out["v+:" + rules.intent] = None
    for flag, on in (
        ("f:ask", reading.asks),
        ("f:mention", reading.mentioned),
        ("f:leader", reading.to_leader),
        ("f:elsewhere", reading.elsewhere),
        ("f:off", reading.off_topic),
        ("f:product", bool(reading.products)),
        ("f:faq", reading.faq_index is not None),
        ("f:short", len(reading.body) <= 4),
        ("f:long", len(reading.body) >= 16),
    ):
        if on:
            out[flag] = None
    return list(out)


_ABOUT_A_PRODUCT = frozenset({"price", "stock", "spec"})
_RULES_SETTLE, _MODEL_LEANS = 0.8, 0.3  # the rules' confidence that settles an unsure model leaning their way
WORD = "w:"


def _new_words(model: Model, feats: list[str]) -> int:
    """Content words (two Chinese characters or more) the model never met in a question in training: with no product
    named, one where the product would be (`榴莲还有没有`) is most likely a product this group does not sell."""
    return sum(
        1
        for f in feats
        if f.startswith(WORD)
        and len(f) >= 4
        and f not in model.asked_words
        and all("\u4e00" <= ch <= "\u9fff" for ch in f[2:])
    )


def decide(model: Model, reading: Reading, segment: Callable[[str], Sequence[str]]) -> Understanding:
    """The model's most likely intent, sure as much as it is more likely than `none` (the message is not for us)."""
    feats = features(reading, segment)
    probs = model.probabilities(feats)
    p_none = probs.get(NONE, 0.0)
    choices = [(p, c) for c, p in probs.items() if c != NONE and (c != "faq" or reading.faq_index is not None)]
    p, intent = max(choices)
    # How much likelier this intent is than `none`, 0.83 at most (so it must be about 3 to 1 to reach the threshold);
    # an @-mention of the bot adds 0.1.
    confidence = 0.83 * p / (p + p_none) if p + p_none > 0 else 0.0
    if reading.mentioned:
        confidence += 0.1
    product = reading.products[0].product if reading.products else None
    if product is None and intent in _ABOUT_A_PRODUCT:
        confidence -= 0.5 * _new_words(model, feats)
    if not reading.asks and intent != "after_sales":  # "大米还有半袋": a statement (a complaint need not ask)
        confidence -= 0.2
    if reading.elsewhere:  # "你们几点去拿": meant for another member
        confidence -= 0.5
    if reading.off_topic:  # "快递什么时候到": about something the bot does not own
        confidence -= 0.5
    confidence = max(0.0, round(confidence, 2))
    rules = reading.rules
    if confidence < ANSWER_THRESHOLD and rules.intent == intent and rules.answerable:
        # the model leans the rules' way but is not sure: a strong keyword rule (`几点开抢`) settles it
        if rules.confidence >= _RULES_SETTLE and confidence >= _MODEL_LEANS:
            confidence = rules.confidence
    return Understanding(
        question=confidence >= ANSWER_THRESHOLD,
        intent=intent,
        product=product,
        confidence=confidence,
        faq_index=reading.faq_index if intent == "faq" else None,
    )


def find_typo(matcher: ProductMatcher, body: str, name_chars: frozenset[str]) -> list[Match]:
    """A typo'd product jieba cut apart (`车里子截单没`: 车里|子, `草梅团`): each short stretch of Chinese that shares
    all but one character with the catalogue's names (`name_chars`), tried whole."""
    n = len(body)
    near = [ch in name_chars for ch in body]
    if sum(near) < 1:
        return []
    for size in (3, 2, 4):
        for start in range(n - size + 1):
            if sum(near[start : start + size]) < size - 1:
                continue
            window = body[start : start + size]
            if not all("\u4e00" <= ch <= "\u9fff" for ch in window):
                continue
            hit = matcher.fuzzy(window)
            if hit is not None:
                return [Match(hit.product, window, hit.kind, start, start + size, hit.unit)]
    return []
