"""The question classifier on representative lines (not the evaluation set): intent, product, silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import FaqEntry
from bot.parsing.products import ProductMatcher
from bot.parsing.question import ANSWER_THRESHOLD, QuestionReader, understand

CATALOGUE = [
    ("草莓", ("丹东草莓",)),
    ("蓝莓", ("智利蓝莓",)),
    ("土鸡蛋", ("鸡蛋", "草鸡蛋")),
    ("智利车厘子", ("车厘子", "JJ车厘子")),
]
FAQ = [
    FaqEntry(question=["可以送货上门吗", "能送到家吗"], answer="满2件送到楼下"),
    FaqEntry(question=["能开发票吗", "开票"], answer="可以开电子发票"),
]


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> QuestionReader:
    matcher = ProductMatcher(CATALOGUE, cache_dir=tmp_path_factory.mktemp("jieba"))
    r = QuestionReader(matcher, FAQ, "小团")
    r.warm_up()
    return r


@pytest.mark.parametrize(
    ("text", "intent", "product"),
    [
        ("车厘子一盒多少钱呀", "price", "智利车厘子"),
        ("ＪＪ车厘子啥价", "price", "智利车厘子"),  # full-width letters
        ("请问鸡蛋还有货吗", "stock", "土鸡蛋"),
        ("蓝梅还有没", "stock", "蓝莓"),  # a typo
        ("有草莓吗", "stock", "草莓"),
        ("明天下午几点能去拿", "pickup_time", None),
        ("草莓去哪儿拿呀", "pickup_place", "草莓"),
        ("截单没有啊", "cutoff", None),
        ("车厘子接龙还来得及不", "cutoff", "智利车厘子"),
        ("草莓咋还没到", "arrival", "草莓"),
        ("蓝莓今天能到吗", "arrival", "蓝莓"),
        ("第一次参加,怎么下单", "how_to_order", None),
        ("车厘子烂了两颗", "after_sales", "智利车厘子"),  # a complaint needs no question mark
        ("收到的鸡蛋破了一个", "after_sales", "土鸡蛋"),
        ("现在几个人了,能成团不", "group_status", None),
        ("可以送上门吗", "faq", None),
        ("开票怎么弄", "faq", None),
    ],
)
def test_questions(reader: QuestionReader, text: str, intent: str, product: str | None) -> None:
    u = reader.understand(text)
    assert (u.intent, u.product) == (intent, product)
    assert u.question
    assert u.answerable
    assert u.confidence >= ANSWER_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "早上好各位",
        "谢谢团长辛苦啦",
        "好的收到",
        "[捂脸][捂脸]",
        "😂👍",
        "李姐你明天去公园吗?",
        "王姐草莓多少钱买的?",  # a neighbour, not the leader
        "谁有多的鸡蛋借我两个",
        "明天停电吗?",
        "物业几点上班?",
        "螃蟹要蒸多久?",
        "快递什么时候到啊",
        "超市的车厘子多少钱一斤",
        "电梯坏了怎么办",
        "草莓真甜",
        "鸡蛋到了,大家快来拿",
        "12. 3栋 王阿姨 草莓2盒",
        "#接龙 草莓团\n1. 张姐 草莓1盒\n2. 王阿姨 草莓2盒",
        "草莓一个都没坏,很好",
        "",
    ],
)
def test_chatter_is_silent(reader: QuestionReader, text: str) -> None:
    u = reader.understand(text)
    assert not u.answerable, u


def test_a_mention_raises_confidence_but_chatter_stays_chatter(reader: QuestionReader) -> None:
    plain = reader.understand("草莓多少钱")
    mentioned = reader.understand("@小团\u2005草莓多少钱")
    assert mentioned.intent == plain.intent == "price"
    assert mentioned.confidence > plain.confidence
    assert reader.understand("草莓多少钱", mentioned=True).confidence == mentioned.confidence
    for chatter in ("@小团 谢谢", "@小团 你好呀", "@小团 你是机器人吗"):
        assert not reader.understand(chatter).answerable
    assert not reader.understand("哈哈哈", mentioned=True).answerable


def test_a_leader_named_first_is_asked_for_the_bot_to_answer(reader: QuestionReader) -> None:
    assert not reader.understand("张姐,你这草莓还有吗").answerable  # 张姐 is just a neighbour here
    u = reader.understand("张姐,你这草莓还有吗", leaders=["张姐"])
    assert (u.intent, u.product, u.answerable) == ("stock", "草莓", True)


def test_faq_index_names_the_entry(reader: QuestionReader) -> None:
    assert reader.understand("能开发票吗").faq_index == 1
    assert reader.understand("能送到家不").faq_index == 0
    assert reader.understand("草莓多少钱").faq_index is None


def test_the_module_function_keeps_one_reader_per_matcher(tmp_path: Path) -> None:
    matcher = ProductMatcher(CATALOGUE, cache_dir=tmp_path)
    first = understand("草莓还有吗?", matcher=matcher, faq=FAQ, bot_name="小团")
    again = understand("草莓还有吗?", matcher=matcher, faq=FAQ, bot_name="小团")
    assert first == again
    assert (first.intent, first.product) == ("stock", "草莓")


@pytest.mark.parametrize(
    ("text", "intent", "product"),
    [
        # issue #16: the intents members use every day
        ("我订了几盒?", "my_orders", None),
        ("我接龙了吗", "my_orders", None),
        ("@小团 我一共多少钱", "my_orders", None),
        ("今天有什么团?", "whats_on", None),
        ("最近有什么团购", "whats_on", None),
        ("车厘子几斤一箱?", "spec", "智利车厘子"),
        ("草莓一盒几斤", "spec", "草莓"),
        # after-sales without 坏/退
        ("收到的鸡蛋有一股怪味", "after_sales", "土鸡蛋"),
        ("草莓没熟还是白的", "after_sales", "草莓"),
        ("袋子里少了一盒蓝莓", "after_sales", "蓝莓"),
        # stock asked sideways, with or without @小团
        ("蓝莓还剩几盒", "stock", "蓝莓"),
        ("鸡蛋卖光没", "stock", "土鸡蛋"),
        ("@小团 还能订草莓吗", "stock", "草莓"),
        ("@小团还能订草莓吗", "stock", "草莓"),
        # cutoff, pickup, how to pay, a typo'd product in a price question
        ("接龙能接到几点", "cutoff", None),
        ("今晚九点还能去拿吗", "pickup_time", None),
        ("东西放哪了", "pickup_place", None),
        ("怎么付款", "how_to_order", None),
        ("蓝梅多少钱一盒", "price", "蓝莓"),
    ],
)
def test_questions_asked_sideways(reader: QuestionReader, text: str, intent: str, product: str | None) -> None:
    u = reader.understand(text)
    assert (u.intent, u.product, u.answerable) == (intent, product, True), u


@pytest.mark.parametrize(
    "text",
    ["我订了三盒草莓", "你订了几盒", "超市的鸡蛋多少钱", "大闸蟹蒸几分钟", "这天怎么这么冷", "截单了谢谢大家"],
)
def test_statements_and_other_peoples_questions_stay_silent(reader: QuestionReader, text: str) -> None:
    assert not reader.understand(text).answerable


def test_a_product_the_group_does_not_sell_is_not_answered_as_the_current_buy(reader: QuestionReader) -> None:
    assert not reader.understand("榴莲还有没有").answerable
    assert not reader.understand("榴莲多少钱").answerable


def test_the_keyword_rules_alone_still_read(tmp_path: Path) -> None:
    """model=False: the rules' own verdict (what the trained model is given as features)."""
    matcher = ProductMatcher(CATALOGUE, cache_dir=tmp_path)
    rules_only = QuestionReader(matcher, FAQ, "小团", model=False)
    u = rules_only.understand("草莓还有吗?")
    assert (u.intent, u.product, u.answerable) == ("stock", "草莓", True)
    assert not rules_only.understand("谢谢团长").answerable


def test_a_buys_title_words_read_as_the_buy(tmp_path: Path) -> None:
    """`早餐团` of the buy `酸奶鸭蛋早餐团` names no product: the reader given the titles reads it as 团, not as an
    unknown topic (#16: `今天的蓝莓团几点截`)."""
    matcher = ProductMatcher([("酸奶", ()), ("鸭蛋", ())], cache_dir=tmp_path)
    titled = QuestionReader(matcher, (), "小团", titles=["酸奶鸭蛋早餐团"])
    u = titled.understand("今天的早餐团几点截")
    assert (u.answerable, u.intent) == (True, "cutoff")
    assert titled.understand("哪家早餐店好吃").answerable is False
