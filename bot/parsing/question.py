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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from bot.parsing.chain import is_chain
from bot.parsing.products import Match, ProductMatcher, fold

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
)

#: the bot answers a question at or above this confidence; below it stays silent (or notes it for the leader)
ANSWER_THRESHOLD = 0.6

_MAX_LEN = 80  # longer messages are announcements, chains or stories, not quick questions


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


_SILENT = Understanding(False, None, None, 0.0)

# ---------------------------------------------------------------------------------------------------------------------
# Vocabulary

_MENTION = re.compile(r"@([^\s\u2005@]{1,20})[\s\u2005]*")
_STICKER = re.compile(r"\[[^\[\]]{1,8}\]")
_WORDISH = re.compile(r"[0-9a-z\u4e00-\u9fff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Does it ask? Interrogative words, a question mark, a final question particle, or a polite request.
_ASKS = re.compile(
    r"[?]|吗|嘛|么|呢|伐|冇|莫得|啥|什么|几|多少|多钱|哪|咋|怎|如何|是否|能不能|可不可以|有没有|是不是|还是|要不要"
    r"|多久|请问|问一下|问下|(?:地址|位置|时间|格式|方法)(?:发|说)一?下|教一?下|教教|告诉我|(?:不|没|没有)[啊呀哦吖嘞]?$"
    r"|([\u4e00-\u9fff])[不没]\1"  # A-not-A: 够不够, 送不送, 有没有
)
# A greeting, thanks or acknowledgement that opens a message is not part of the question.
_OPENERS = re.compile(
    r"^(?:你好|您好|请问一下|请问|问一下|问下|打扰一下|打扰了|麻烦问下|团长|亲|在吗|哈喽|hello|hi)[,.!~\s]*"
)
# Aimed at another member: "你" (not 你们/你好), the crowd ("谁", "大家觉得"), another member's household.
_TO_MEMBER = re.compile(r"你(?![们好])|谁|哪位|有没有人|有人(?:一起|要|想|去)|大家觉得|你们家|你们楼")
# "李姐草莓多少钱买的": a message opening with a neighbour's name (not a leader's) is meant for her.
_VOCATIVE = re.compile(
    r"^[\u4e00-\u9fff](?:姐|哥|姨|叔|婶|嫂|总|老师|师傅|阿姨|叔叔|大爷|奶奶|爷爷|妈妈|大姐|大哥|妹|弟)(?:[,@]|(?=[\u4e00-\u9fff]))"
)
# Topics the bot cannot own; a product named next to them is someone else's product (超市的草莓).
_OFF_TOPIC = re.compile(
    r"快递|物业|停电|停水|天气|下雨|下雪|几度|温度|电梯|外卖|驿站|丰巢|车位|停车|水费|电费|燃气|宽带|网速|超市|菜市场"
    r"|幼儿园|学校|放学|医院|疫苗|核酸|装修|垃圾|机场|拼车|水管|手机|电脑|电视|空调|冰箱|洗衣机|发烧|感冒"
    r"|机器人|几岁|区别|怎么做|怎么煮|怎么洗|怎么吃|怎么保存|蒸|煮|炒|炖|洗|泡|放多久|能放|保存|保质期"
)


class _Rule(NamedTuple):
    intent: str
    strength: float
    pattern: re.Pattern[str]
    needs_ask: bool = True


_TIME_Q = r"(?:几点|什么时候|什么时间|啥时候|啥时|几时|几号|哪天|多久)"
_PICK = r"(?:自提|提货|取货|拿货|领货|去拿|来拿|过去拿|能拿|可以拿|去取|来取|能取|可以取|去领|能领|拿|取|领|拎)"
_WHERE_Q = r"(?:哪|什么地方|啥地方|什么位置|啥位置|地址|地点|位置|还是.{0,3}门)"
_ORDER_VERB = r"(?:接龙|下单|订购|订|报名|参加|参团|跟团|购买|买)"
_VAGUE_VERB = r"(?:操作|弄|整|搞|写)"  # "how do I do it": how to order, unless something more specific is named
_DAMAGE = (
    r"(?:坏了|坏的|烂了|烂的|碎了|破了|裂了|发霉|霉了|长毛|臭了|变质|不新鲜|压坏|压扁|压烂|少了|缺了|有虫|生虫|过期"
    r"|漏了|蔫了|化了|有问题)"
)
# Damage words are a complaint about the buy only next to its goods or a request to fix it (not "手机屏碎了").
_COMPLAINT_ANCHOR = re.compile(
    r"买的|收到的|拿到的|拿回家|到手|团的|这次的|我的那份|我那份|货|怎么办|怎么处理|能退|能换|能赔|团长看|打开"
)
_NEGATED_DAMAGE = re.compile(r"(?:没有?|不|没什么)(?:一个|一颗|一盒)?" + _DAMAGE)

_RULES: tuple[_Rule, ...] = (
    # after-sales: a complaint needs no question mark
    _Rule("after_sales", 0.9, re.compile(r"售后|退款|退货|换货|退钱|赔偿|包赔|补发|漏发|少发|发错|错发|投诉"), False),
    # 成团 status
    _Rule(
        "group_status",
        0.9,
        re.compile(r"成团|拼成|团.?成|能成(?:吗|不|没)|(?:人数|人)够|够人|几个人|几人|多少人|差几|差多少|降价"),
    ),
    # cutoff
    _Rule("cutoff", 0.9, re.compile(r"截单|截止|截团|结团|截至")),
    _Rule("cutoff", 0.85, re.compile(r"(?:接龙|下单|报名|订)到几点|最晚.{0,4}(?:接龙|下单|报名|订)")),
    _Rule("cutoff", 0.8, re.compile(r"还能(?:接龙|接|下单|报名|订|参加|跟)|还来得及|(?:团|接龙).{0,6}结束")),
    # pickup time and place
    _Rule("pickup_time", 0.9, re.compile(r"(?:自提|提货|取货|拿货)时间")),
    _Rule("pickup_time", 0.85, re.compile(_TIME_Q + r".{0,6}" + _PICK + "|" + _PICK + r".{0,4}" + _TIME_Q)),
    _Rule(
        "pickup_time",
        0.8,
        re.compile(
            r"(?:今天|明天|后天|今晚|周.|星期.|上午|下午|晚上)(?:能|可以)?(?:去|过去)?"
            + _PICK
            + r"(?:货)?(?:吗|了吗|不|没)"
        ),
    ),
    _Rule("pickup_place", 0.9, re.compile(r"(?:自提|提货|取货|拿货)(?:点|地址|地点|位置)")),
    _Rule("pickup_place", 0.85, re.compile(_WHERE_Q + r".{0,6}" + _PICK + "|" + _PICK + r".{0,3}" + _WHERE_Q)),
    # arrival
    _Rule(
        "arrival",
        0.85,
        re.compile(
            r"到货|发货|来货|货.{0,3}(?:来|到)|到了(?:吗|没|么|伐|不)|(?:什么时候|啥时候|几时|几号|哪天|几点)(?:能)?到(?!几)"
            r"|(?:今天|明天|后天|周.|星期.)(?:能|可以)?到(?:吗|不|没|伐|么)?$|能到(?:吗|不|没|伐)|还没(?:到|来|发)"
        ),
    ),
    # how to order
    _Rule(
        "how_to_order",
        0.85,
        re.compile(r"(?:怎么|咋|如何|怎样|要怎么)" + _ORDER_VERB + r"|(?:在哪|哪里|哪儿)(?:下单|接龙|报名|订|买)"),
    ),
    _Rule("how_to_order", 0.85, re.compile(r"接龙(?:格式|怎么写|的格式)|不会接龙|(?:怎么|如何)(?:参加|跟)团")),
    _Rule("how_to_order", 0.75, re.compile(r"(?:怎么|咋|如何|怎样)" + _VAGUE_VERB)),
    # stock
    _Rule(
        "stock",
        0.85,
        re.compile(r"有莫得|有没有货|有货(?:吗|没|不|么)|没货|卖完|卖光|抢完|抢光|售罄|库存|还剩|剩(?:多少|几)"),
    ),
    _Rule("stock", 0.8, re.compile(r"还有(?!人)[^,.!?]{0,6}?(?:吗|么|嘛|没有|没|不|伐|冇|莫得)|还够")),
    _Rule("stock", 0.75, re.compile(r"还有多少")),
    # price
    _Rule(
        "price",
        0.9,
        re.compile(
            r"多少钱|多钱|几块|几多钱|几钱|啥价|什么价|价格|价钱|单价|怎么卖|咋卖|怎卖|多少米|贵不贵"
            r"|多少一(?:盒|箱|斤|袋|个|份)|一(?:盒|箱|斤|袋|份|个)(?:多少|几)|降到多少"
        ),
    ),
)

# Words that explain themselves in any question: particles, pronouns, time words, quantities, units, fillers.
_STOP = frozenset(
    """
    的 了 吗 呢 啊 呀 吧 哦 嘛 么 哈 呐 啦 咯 嘞 哇 伐 不 没 没有 有 是 在 去 来 到 都 就 也 再 又 还
    还是 能 可以 可 会 要 想 我 我们 咱 咱们 你们 您 他 她 它 这 那 这个 那个 这次 这批 那批 这些 这边
    那边 这里 那里 这回 上次 本次 这期 本期 需要 想要 现在 今天 明天 后天 昨天 今晚 明晚 晚上 下午 上午
    中午 早上 周末 周六 周日 大概 预计 一般 一下 一些 有点 好几个 请问 问下 问一下 团长 亲 各位 大家
    邻居 新来 新来的 第一次 刚来 麻烦 帮忙 请 谢谢 好 好的 一 二 两 三 几 多少 个 盒 箱 斤 袋 份 颗 枚
    把 件 包 只 次 号 点 钟 们 人 一个 两个 三个 一盒 两盒 一箱 一袋 一斤 多 少 发现 拿回家 怎么 咋
    如何 什么 啥 哪 哪里 哪儿 时候 时间 开始 结束 合适 比较 还有 已经 就是 真的 呢个 嗯 噢 喔 哎 唉 诶
    看 看下 看一下 下 说 问 知道 告诉 收到 买 买的 订 拿 取 领 提 给 让 把 被 和 跟 与 或 或者 为什么
    然后 所以
    """.split()
)


@dataclass(frozen=True)
class _FaqTerms:
    terms: tuple[frozenset[str], ...]  # per FAQ entry: its content words (≥ 2 characters)
    all_terms: tuple[str, ...]  # longest first, for the scan
    core: tuple[frozenset[str], ...]  # per FAQ entry: the content characters every variant shares (送 of 送货/送到)


class QuestionReader:
    """One per config: the matcher (jieba with the catalogue) plus the FAQ terms. Cheap per call after warm-up."""

    def __init__(self, matcher: ProductMatcher, faq: Sequence[FaqEntry] = (), bot_name: str = "小团") -> None:
        self.matcher = matcher
        self.bot_name = bot_name
        self._bot_folded = fold(bot_name)
        self._faq = self._faq_terms([list(entry.question) for entry in faq])

    def _faq_terms(self, entries: Sequence[Sequence[str]]) -> _FaqTerms:
        per_entry: list[frozenset[str]] = []
        core: list[frozenset[str]] = []
        for variants in entries:
            words: set[str] = set()
            shared: set[str] | None = None
            for variant in variants:
                folded = fold(variant.strip())
                for word in self._words(folded):
                    if len(word) >= 2 and word not in _STOP and _CJK.search(word):
                        words.add(word)
                chars = {ch for ch in folded if _CJK.match(ch) and ch not in _STOP}
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
            if len(word) >= 3 and _CJK.match(word):
                out.extend(word[k : k + 2] for k in range(len(word) - 1))
        return out

    def warm_up(self) -> None:
        self.matcher.warm_up()
        self.understand("草莓还有吗?")

    # ---------------------------------------------------------------------------------------------------------------
    def understand(self, text: str, *, mentioned: bool = False, leaders: Sequence[str] = ()) -> Understanding:
        stripped = text.strip()
        if not stripped or len(stripped) > _MAX_LEN or is_chain(stripped):
            return _SILENT
        body, mentioned, other_mention = self._strip_mentions(fold(stripped), mentioned)
        body = _STICKER.sub(" ", body)
        body = "".join(ch for ch in body if ch <= "\uffff" and not ("\u2600" <= ch <= "\u27bf"))  # emoji
        body = body.replace("？", "?")
        body = re.sub(r"[，,。.、!！~～…:：;；\s]+", ",", body).strip(",")
        to_leader = False  # "团长你这草莓还有吗": the bot answers for the leader
        while True:
            opener = _OPENERS.match(body)
            if opener is None or not opener.group(0):
                break
            to_leader = to_leader or opener.group(0).startswith("团长")
            body = body[opener.end() :]
        for leader in leaders:  # "张姐,草莓还有吗" asks the leader, and the bot answers for her
            name = fold(leader.strip())
            if name and body.startswith(name):
                to_leader = True
                body = body[len(name) :].lstrip(",")
        if not _WORDISH.search(body):
            return _SILENT
        if re.match(r"^[0-9]+[.)]", body) or re.match(r"^[+＋]\d", body):
            return _SILENT  # a chain line on its own (`12. 3栋 王阿姨 草莓2盒`), or `+1`

        products = self.matcher.find_all(body)
        product = products[0].product if products else None

        candidates = self._candidates(body, products)
        faq_index, faq_strength = self._faq_match(body)
        asks = bool(_ASKS.search(body))
        if faq_index is not None and asks:
            candidates.append(("faq", faq_strength, []))
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
        addressed_elsewhere = not (mentioned or to_leader) and bool(_TO_MEMBER.search(body) or _VOCATIVE.match(body))
        if addressed_elsewhere or (other_mention and not mentioned and "你" in body):
            confidence -= 0.5
        if _OFF_TOPIC.search(body):
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
            else:
                other = True
            return " "

        text = _MENTION.sub(drop, text)
        # "小团,草莓还有吗" names the bot without an @.
        if text.startswith(self._bot_folded):
            rest = text[len(self._bot_folded) :]
            if not rest or rest[0] in ",，: ：、 " or _ASKS.match(rest) is None:
                mentioned = True
                text = rest
        return text, mentioned, other

    def _candidates(self, body: str, products: Sequence[Match]) -> list[tuple[str, float, list[tuple[int, int]]]]:
        found: list[tuple[str, float, list[tuple[int, int]]]] = []
        for rule in _RULES:
            spans = [m.span() for m in rule.pattern.finditer(body)]
            if spans:
                found.append((rule.intent, rule.strength, spans))
        damage = [m.span() for m in re.finditer(_DAMAGE, body)]
        negated = [m.span() for m in _NEGATED_DAMAGE.finditer(body)]
        damage = [s for s in damage if not any(n[0] <= s[0] < n[1] for n in negated)]
        if damage and not re.search(r"没关系|没事|不要紧|无所谓", body):
            anchored = bool(products) or _COMPLAINT_ANCHOR.search(body)
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
        for word in self.matcher.segment(body):
            start = body.find(word, pos)
            if start < 0:
                continue
            pos = start + len(word)
            if all(covered[start:pos]) or word in _STOP or not _CJK.search(word):
                continue
            rest = "".join(ch for k, ch in enumerate(word, start) if not covered[k])
            if not rest or rest in _STOP or all(ch in _STOP for ch in rest):
                continue
            cost += 1.0 if len(rest) >= 2 else 0.5
        return cost


# ---------------------------------------------------------------------------------------------------------------------
# One reader per (matcher, faq, bot name): the matcher is the config's, so this is one per config.

_READERS: weakref.WeakKeyDictionary[ProductMatcher, dict[tuple[object, ...], QuestionReader]] = (
    weakref.WeakKeyDictionary()
)
_READERS_LOCK = threading.Lock()


def question_reader(matcher: ProductMatcher, faq: Sequence[FaqEntry] = (), bot_name: str = "小团") -> QuestionReader:
    key = (bot_name, tuple((tuple(e.question), e.answer) for e in faq))
    with _READERS_LOCK:
        per_matcher = _READERS.setdefault(matcher, {})
        reader = per_matcher.get(key)
        if reader is None:
            if len(per_matcher) >= 8:  # reloaded configs with the same catalogue: keep the newest few
                per_matcher.clear()
            reader = per_matcher[key] = QuestionReader(matcher, faq, bot_name)
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
