"""A member's message → is it a question the bot owns, which intent, which product, how sure. Pure: no I/O.

The bot answers only what the leader's data can answer, and stays silent on everything else: a bot that talks too
much is removed from the group. So a message must *ask* (an interrogative, a question mark, a request) about the
group buy (intent keywords), must not be aimed at another member (`你` without `们`, `谁`, `大家觉得`) and must not be
about something else the bot cannot own (`快递`, `物业`, `停电`, `超市` …). A complaint (`鸡蛋碎了三个`) need not ask.
Words jieba finds that no rule explains (`猫粮哪里买` → `猫粮`) lower the confidence: they usually mean the message
is about something else.

Words come from the matcher's jieba tokenizer (the catalogue as its user dictionary); FAQ terms are the content words
of each FAQ entry's question variants, found by a longest-match scan over the text, so one jieba instance serves both.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.parsing.chain import is_chain
from bot.parsing.commands import COMMAND_WORDS
from bot.parsing.plain_chinese import plain
from bot.parsing.products import Match, ProductMatcher, fold
from bot.parsing.question_decide import ANSWER_THRESHOLD, Reading, Understanding, decide, find_typo
from bot.parsing.question_model import Model, load_model
from bot.parsing.question_rules import (
    ASKS,
    CJK,
    COMPLAINT_ANCHOR,
    DAMAGE,
    MENTION,
    NEGATED_DAMAGE,
    OFF_TOPIC,
    OPENERS,
    RULES,
    STICKER,
    STOP_WORDS,
    TO_MEMBER,
    VOCATIVE,
    WORDISH,
)

if TYPE_CHECKING:
    from bot.config import FaqEntry

__all__ = [
    "ANSWER_THRESHOLD",
    "INTENTS",
    "QuestionReader",
    "Understanding",
    "question_reader",
    "understand",
]

INTENTS = (
    "price",
    "stock",
    "pickup_time",
    "pickup_place",
    "cutoff",
    "arrival",
    "how_to_order",
    "after_sales",
    "group_status",
    "faq",
    "my_orders",  # the asker's own orders and amount: "我订了几盒?", "我接龙了吗"
    "whats_on",  # the open buys: "今天有什么团?"
    "spec",  # the catalogue's spec of a product: "车厘子几斤一箱?"
)

_MAX_LEN = 80  # longer messages are announcements, chains or stories, not quick questions


_SILENT = Understanding(False, None, None, 0.0)

# ---------------------------------------------------------------------------------------------------------------------
# Vocabulary


@dataclass(frozen=True)
class _FaqTerms:
    terms: tuple[frozenset[str], ...]  # per FAQ entry: its content words (≥ 2 characters)
    all_terms: tuple[str, ...]  # longest first, for the scan
    core: tuple[frozenset[str], ...]  # per FAQ entry: the content characters every variant shares (送 of 送货/送到)


class QuestionReader:
    """One per config: the matcher (jieba with the catalogue) plus the FAQ terms. Cheap per call after warm-up."""

    def __init__(
        self,
        matcher: ProductMatcher,
        faq: Sequence[FaqEntry] = (),
        bot_name: str = "小团",
        *,
        model: Model | None | bool = True,
        titles: Sequence[str] = (),
    ) -> None:
        self.matcher = matcher
        self.bot_name = bot_name
        # `早餐团` of the buy `酸奶鸭蛋早餐团`: a title's words that name no product are read as 团 (`早餐团几点截`)
        self._title_words = _title_words(matcher, titles)
        self._bot_folded = fold(bot_name)
        self._faq = self._faq_terms([list(entry.question) for entry in faq])
        terms = self._faq.all_terms
        self._faq_scan = re.compile("|".join(map(re.escape, terms))) if terms else None
        # The trained decision (the default), or the keyword rules alone (model=False: what the model is trained over).
        self._name_chars = frozenset("".join(matcher.surface_products()))
        # jieba is most of a message's cost; the same short texts (and their masked forms) come back often.
        self.segment: Callable[[str], Sequence[str]] = lru_cache(maxsize=4096)(lambda t: tuple(matcher.segment(t)))
        self.model: Model | None = load_model() if model is True else (model or None)

    def _faq_terms(self, entries: Sequence[Sequence[str]]) -> _FaqTerms:
        per_entry: list[frozenset[str]] = []
        core: list[frozenset[str]] = []
        for variants in entries:
            words: set[str] = set()
            shared: set[str] | None = None
            for variant in variants:
                folded = fold(variant.strip())
                for word in self._words(folded):
                    # an interrogative (`几点` of 几点开始取货) names no topic: `几点截单` is not that entry
                    if len(word) >= 2 and word not in STOP_WORDS and CJK.search(word) and not ASKS.search(word):
                        words.add(word)
                chars = {ch for ch in folded if CJK.match(ch) and ch not in STOP_WORDS}
                shared = chars if shared is None else shared & chars
            per_entry.append(frozenset(words))
            core.append(frozenset(shared or ()))
        # A term shared by several entries says nothing about which one is meant.
        counts: dict[str, int] = {}
        for entry_words in per_entry:
            for w in entry_words:
                counts[w] = counts.get(w, 0) + 1
        distinct = tuple(frozenset(w for w in entry_words if counts[w] == 1) for entry_words in per_entry)
        ordered = tuple(sorted({w for entry_words in distinct for w in entry_words}, key=lambda w: (-len(w), w)))
        return _FaqTerms(distinct, ordered, tuple(core))

    def _words(self, text: str) -> list[str]:
        """jieba words; a long word (送货上门, 开发票) also yields its two-character pieces (送货, 发票), so a question
        using only part of it (发票怎么开) still meets it."""
        out: list[str] = []
        for word in self.matcher.segment(text):
            out.append(word)
            if len(word) >= 3 and CJK.match(word):
                out.extend(word[k : k + 2] for k in range(len(word) - 1))
        return out

    def warm_up(self) -> None:
        self.matcher.warm_up()
        self.understand("草莓还有吗?")

    # ---------------------------------------------------------------------------------------------------------------
    def understand(self, text: str, *, mentioned: bool = False, leaders: Sequence[str] = ()) -> Understanding:
        reading = self.read(text, mentioned=mentioned, leaders=leaders)
        if reading is None:
            return _SILENT
        if self.model is None:
            return reading.rules
        return decide(self.model, reading, self.segment)

    def read(self, text: str, *, mentioned: bool = False, leaders: Sequence[str] = ()) -> Reading | None:
        """What the message holds for the decision: its body, products, the keyword rules' verdict, a few flags;
        None for what is never a question (empty, too long, a chain, a chain line, no word)."""
        stripped = text.strip()
        if not stripped or len(stripped) > _MAX_LEN or is_chain(stripped):
            return None
        body, mentioned, other_mention = self._strip_mentions(fold(plain(stripped)), mentioned)
        body = STICKER.sub(" ", body)
        body = "".join(ch for ch in body if ch <= "\uffff" and not ("\u2600" <= ch <= "\u27bf"))  # emoji
        body = body.replace("？", "?")
        for word in self._title_words:
            if word in body:
                body = body.replace(word, "团")
        body = re.sub(r"[，,。.、!！~～…:：;；\s]+", ",", body).strip(",")
        to_leader = False  # "团长你这草莓还有吗": the bot answers for the leader
        while True:
            opener = OPENERS.match(body)
            if opener is None or not opener.group(0):
                break
            to_leader = to_leader or opener.group(0).startswith("团长")
            body = body[opener.end() :]
        for leader in leaders:  # "张姐,草莓还有吗" asks the leader, and the bot answers for her
            name = fold(leader.strip())
            if name and body.startswith(name):
                to_leader = True
                body = body[len(name) :].lstrip(",")
        if not WORDISH.search(body):
            return None
        if re.match(r"^[0-9]+[.)]", body) or re.match(r"^[+＋]\d", body):
            return None  # a chain line on its own (`12. 3栋 王阿姨 草莓2盒`), or `+1`

        asks = bool(ASKS.search(body))
        if not asks and body.lstrip("#") in COMMAND_WORDS:
            return None  # a bare leader command (`截单`, `#库存`): from a member it asks nothing, it tries a command
        products = self.matcher.find_all(body, loose=True)  # `蟹`, `caomei`, `strawberries` too
        if not products and asks:  # a typo jieba cut apart, looked for only in a question (it costs)
            products = find_typo(self.matcher, body, self._name_chars)
        candidates = self._candidates(body, products)
        faq_index, faq_strength = self._faq_match(body)
        if faq_index is not None and asks:
            candidates.append(("faq", faq_strength, []))
        addressed_elsewhere = not (mentioned or to_leader) and bool(TO_MEMBER.search(body) or VOCATIVE.match(body))
        elsewhere = addressed_elsewhere or (other_mention and not mentioned and "你" in body)
        off_topic = bool(OFF_TOPIC.search(body))
        rules = self._rule_verdict(body, products, candidates, faq_index, asks, mentioned, elsewhere, off_topic)
        faq_spans = [(m.start(), m.end()) for m in self._faq_scan.finditer(body)] if self._faq_scan else []
        return Reading(
            body,
            tuple(products),
            tuple(candidates),
            faq_index,
            faq_strength,
            tuple(faq_spans),
            asks,
            mentioned,
            to_leader,
            elsewhere,
            off_topic,
            rules,
        )

    def _rule_verdict(
        self,
        body: str,
        products: Sequence[Match],
        candidates: list[tuple[str, float, list[tuple[int, int]]]],
        faq_index: int | None,
        asks: bool,
        mentioned: bool,
        elsewhere: bool,
        off_topic: bool,
    ) -> Understanding:
        """The keyword rules alone: the strongest rule's intent, its strength less what no rule explains."""
        product = products[0].product if products else None
        if not candidates:
            return Understanding(False, None, product, 0.0)
        # The strongest evidence wins; on a tie the earlier rule (more specific: after-sales, 成团, cutoff …) does.
        intent, strength, _ = max(candidates, key=lambda c: c[1])
        if intent != "after_sales" and not asks:
            return Understanding(False, intent, product, round(strength * 0.3, 2))
        confidence = strength
        if product is not None:
            confidence += 0.05
        if mentioned:
            confidence += 0.1
        explained = [span for c in candidates for span in c[2]]
        if intent == "faq" and faq_index is not None:
            explained += [(k, k + 1) for k, ch in enumerate(body) if ch in self._faq.core[faq_index]]
        # Without a product named, an unknown noun next to "多少钱"/"还有吗" is most likely the thing asked about.
        per_word = 0.3 if intent in ("price", "stock") and product is None else 0.15
        confidence -= per_word * self._unexplained(body, explained, products)
        if elsewhere:
            confidence -= 0.5
        if off_topic:
            confidence -= 0.5
        confidence = max(0.0, min(1.0, round(confidence, 2)))
        return Understanding(
            question=confidence >= ANSWER_THRESHOLD,
            intent=intent,
            product=product,
            confidence=confidence,
            faq_index=faq_index if intent == "faq" else None,
        )

    # ---------------------------------------------------------------------------------------------------------------
    def _strip_mentions(self, text: str, mentioned: bool) -> tuple[str, bool, bool]:
        other = False

        def drop(m: re.Match[str]) -> str:
            nonlocal mentioned, other
            if m.group(1) == self._bot_folded:
                mentioned = True
            elif m.group(1).startswith(self._bot_folded):  # "@小团还有车厘子吗": no space after the name
                mentioned = True
                return " " + m.group(1)[len(self._bot_folded) :] + " "
            else:
                other = True
            return " "

        text = MENTION.sub(drop, text)
        # "小团,草莓还有吗" names the bot without an @.
        if text.startswith(self._bot_folded):
            rest = text[len(self._bot_folded) :]
            if not rest or rest[0] in ",，: ：、 " or ASKS.match(rest) is None:
                mentioned = True
                text = rest
        return text, mentioned, other

    def _candidates(self, body: str, products: Sequence[Match]) -> list[tuple[str, float, list[tuple[int, int]]]]:
        found: list[tuple[str, float, list[tuple[int, int]]]] = []
        for rule in RULES:
            spans = [m.span() for m in rule.pattern.finditer(body)]
            if spans:
                found.append((rule.intent, rule.strength, spans))
        damage = [m.span() for m in re.finditer(DAMAGE, body)]
        negated = [m.span() for m in NEGATED_DAMAGE.finditer(body)]
        damage = [s for s in damage if not any(n[0] <= s[0] < n[1] for n in negated)]
        if damage and not re.search(r"没关系|没事|不要紧|无所谓", body):
            anchored = bool(products) or COMPLAINT_ANCHOR.search(body)
            if anchored:
                found.append(("after_sales", 0.85 if products else 0.8, damage))
        if products and re.search(r"^(?:有没有|有)(?!人)[^,?]{0,6}?(?:吗|么|嘛|没|不|伐)?$", body):
            found.append(("stock", 0.75, []))  # "有草莓吗", "有没有鸡蛋"
        return found

    def _faq_match(self, body: str) -> tuple[int | None, float]:
        """The FAQ entry the text asks about: one of its content words (strong), else every character all its
        variants share (weak: `可以配送吗` shares 送 with 送货上门/送到家/送货)."""
        hits: dict[int, int] = {}
        for term in self._faq.all_terms:
            if term in body:
                for i, words in enumerate(self._faq.terms):
                    if term in words:
                        hits[i] = hits.get(i, 0) + len(term)
        if hits:
            return max(hits, key=lambda i: (hits[i], -i)), 0.8
        for i, chars in enumerate(self._faq.core):
            if chars and all(ch in body for ch in chars):
                return i, 0.65
        return None, 0.0

    def _unexplained(self, body: str, spans: Iterable[tuple[int, int]], products: Sequence[Match]) -> float:
        """How much of the message no rule explains: jieba words that are not keywords, products, FAQ terms or
        function words. Two unknown content words cost a normal question its answer."""
        covered = [False] * len(body)
        for a, b in spans:
            for k in range(a, b):
                covered[k] = True
        for m in products:
            for k in range(m.start, m.end):
                covered[k] = True
        for term in self._faq.all_terms:
            pos = body.find(term)
            while pos >= 0:
                for k in range(pos, pos + len(term)):
                    covered[k] = True
                pos = body.find(term, pos + 1)
        cost = 0.0
        pos = 0
        for word in self.segment(body):
            start = body.find(word, pos)
            if start < 0:
                continue
            pos = start + len(word)
            if all(covered[start:pos]) or word in STOP_WORDS or not CJK.search(word):
                continue
            rest = "".join(ch for k, ch in enumerate(word, start) if not covered[k])
            if not rest or rest in STOP_WORDS or all(ch in STOP_WORDS for ch in rest):
                continue
            cost += 1.0 if len(rest) >= 2 else 0.5
        return cost


def _title_words(matcher: ProductMatcher, titles: Sequence[str]) -> tuple[str, ...]:
    """The stretches of the buys' titles that end in 团 and name no product (`早餐团` of `酸奶鸭蛋早餐团`, `阶梯团` of
    `五常大米阶梯团`), longest first."""
    words: set[str] = set()
    for title in titles:
        folded = fold(title.strip())
        chars = list(folded)
        for m in matcher.find_all(folded):
            chars[m.start : m.end] = [","] * (m.end - m.start)
        for run in re.findall(r"[\u4e00-\u9fff]{2,}团", "".join(chars)):
            run = re.sub(r"^(?:本周|下周|这周|周[一二三四五六日天末]|星期.|今日|今天|明日|明天|本期|这期)", "", run)
            if len(run) >= 3:
                words.add(run)
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


# ---------------------------------------------------------------------------------------------------------------------
# One reader per (matcher, faq, bot name): the matcher is the config's, so this is one per config.

_READERS: weakref.WeakKeyDictionary[ProductMatcher, dict[tuple[object, ...], QuestionReader]] = (
    weakref.WeakKeyDictionary()
)
_READERS_LOCK = threading.Lock()


def question_reader(
    matcher: ProductMatcher, faq: Sequence[FaqEntry] = (), bot_name: str = "小团", titles: Sequence[str] = ()
) -> QuestionReader:
    key = (bot_name, tuple((tuple(e.question), e.answer) for e in faq), tuple(titles))
    with _READERS_LOCK:
        per_matcher = _READERS.setdefault(matcher, {})
        reader = per_matcher.get(key)
        if reader is None:
            if len(per_matcher) >= 8:  # reloaded configs with the same catalogue: keep the newest few
                per_matcher.clear()
            reader = per_matcher[key] = QuestionReader(matcher, faq, bot_name, titles=titles)
    return reader


def understand(
    text: str,
    *,
    matcher: ProductMatcher,
    faq: Sequence[FaqEntry] = (),
    bot_name: str = "小团",
    mentioned: bool = False,
    leaders: Sequence[str] = (),
) -> Understanding:
    """Is `text` a question the bot owns: intent, product (as named; None = the group's current buy), confidence.

    `mentioned`: the message @-mentions the bot (raises confidence; chatter stays chatter). `leaders`: the group's
    leaders' display names, so "张姐,草莓还有吗" is a question for the leader (which the bot answers), not chatter.
    """
    return question_reader(matcher, faq, bot_name).understand(text, mentioned=mentioned, leaders=leaders)
