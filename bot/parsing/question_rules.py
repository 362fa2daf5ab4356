"""The question reader's word lists and intent rules: what asks, what is aimed at another member, what is off
topic, and the keyword rules that name an intent with a strength. Data for `bot.parsing.question`; no logic."""

from __future__ import annotations

import re
from typing import NamedTuple

MENTION = re.compile(r"@([^\s\u2005@]{1,20})[\s\u2005]*")
STICKER = re.compile(r"\[[^\[\]]{1,8}\]")
WORDISH = re.compile(r"[0-9a-z\u4e00-\u9fff]")
CJK = re.compile(r"[\u4e00-\u9fff]")

# Does it ask? Interrogative words, a question mark, a final question particle, or a polite request.
ASKS = re.compile(
    r"[?]|吗|嘛|么|呢|伐|冇|莫得|啥|什么|几|多少|多钱|哪|咋|怎|如何|是否|能不能|可不可以|有没有|是不是|还是|要不要"
    r"|多久|请问|问一下|问下|(?:地址|位置|时间|格式|方法)(?:发|说)一?下|教一?下|教教|告诉我|(?:不|没|没有)[啊呀哦吖嘞]?$"
    r"|([\u4e00-\u9fff])[不没]\1"  # A-not-A: 够不够, 送不送, 有没有
    r"|([\u4e00-\u9fff]{2})[不没]\2"  # 到货没到货
    r"|谁|点样|点算|边度|咩|几时|好久|未[啊呀]?$|(?:发|说|查|看)一?下$|(?:还有|还能|能|可以)[^,]{0,8}吧$"  # dialect
    r"|\b(?:ma|duoshao|shenme|sha|jidian|ji dian|nali|na li|zenme|zen me|mei|meiyou|mei you|jiage|jige|zhaoshui)\b"
)
# A greeting, thanks or acknowledgement that opens a message is not part of the question.
OPENERS = re.compile(
    r"^(?:你好|您好|请问一下|请问|问一下|问下|打扰一下|打扰了|麻烦问下|团长|亲|在吗|哈喽|hello|hi)[,.!~\s]*"
)
# Aimed at another member: "你" (not 你们/你好), the crowd ("谁", "大家觉得"), another member's household.
# (`钱转给你`, `给你转多少` pay the leader.)
TO_MEMBER = re.compile(
    r"(?<![给转])你(?![们好])|(?<![给找])谁|哪位|有没有人|有人(?:一起|要|想|去)|大家觉得|你们家|你们楼"
)
# "李姐草莓多少钱买的": a message opening with a neighbour's name (not a leader's) is meant for her.
VOCATIVE = re.compile(
    r"^(?![我你他她咱这那俺])[\u4e00-\u9fff](?:姐|哥|姨|叔|婶|嫂|总|老师|师傅|阿姨|叔叔|大爷|奶奶|爷爷|妈妈|大姐|大哥|妹|弟)(?:[,@]|(?=[\u4e00-\u9fff]))"
)
# Topics the bot cannot own; a product named next to them is someone else's product (超市的草莓).
OFF_TOPIC = re.compile(
    r"快递(?!柜(?:那|旁|边))|物业|停电|停水|天气|下雨|下雪|几度|温度|电梯|外卖|驿站|丰巢|车位|停车|水费|电费|燃气|宽带|网速|超市|菜市场"
    r"|幼儿园|学校|放学|医院|疫苗|核酸|装修|垃圾|机场|拼车|水管|手机|电脑|电视|空调|冰箱|洗衣机|发烧|感冒"
    r"|机器人|几岁|区别|怎么做|怎么煮|怎么洗|怎么吃|怎么保存|蒸|煮|炒|炖|洗|(?<!泡)泡(?!泡)|放多久|能放|保存|保质期"
)


class Rule(NamedTuple):
    intent: str
    strength: float
    pattern: re.Pattern[str]
    needs_ask: bool = True


TIME_Q = r"(?:几点|什么时候|什么时间|啥时候|啥时|几时|几号|哪天|多久)"
PICK = r"(?:自提|提货|取货|拿货|领货|去拿|来拿|过去拿|能拿|可以拿|去取|来取|能取|可以取|去领|能领|拿|取|领|拎)"
WHERE_Q = r"(?:哪|什么地方|啥地方|什么位置|啥位置|地址|地点|位置|还是.{0,3}门)"
ORDER_VERB = r"(?:接龙|下单|订购|订|报名|参加|参团|跟团|购买|买)"
VAGUE_VERB = r"(?:操作|弄|整|搞|写)"  # "how do I do it": how to order, unless something more specific is named
DAMAGE = (
    r"(?:坏了|坏的|烂了|烂的|碎了|破了|裂了|发霉|霉了|长毛|臭了|变质|不新鲜|压坏|压扁|压烂|少了|缺了|有虫|生虫|过期"
    r"|漏了|蔫了|化了|有问题"
    # what people say when it is not broken but wrong (issue #16): dead, off, unripe, wrong or missing, not as shown
    r"|死了|死掉|死咗|不动了|不吐泡|有味|异味|怪味|酸味|臭味|霉味|发臭|发黑|发黏|发粘|发酸|发苦|变色|变味|馊"
    r"|没熟|不熟|生的|太生|青的|不甜|不脆|太酸|干瘪|空心|黑心|烂心|散黄|胀袋|胀包|漏液|虫眼|有虫子|磕伤|摔坏|捂烂"
    r"|拿错|给错|送错|发成|给成|不是我订的|不对版|货不对|不一样|小太多|太小了|缺斤|短斤|少给|少了一|没有收到|不见了"
    r"|质量太差|质量差|太差了)"
)
# Damage words are a complaint about the buy only next to its goods or a request to fix it (not "手机屏碎了").
COMPLAINT_ANCHOR = re.compile(
    r"买的|收到的|拿到的|拿回家|到手|团的|这次的|我的那份|我那份|货|怎么办|怎么处理|能退|能换|能赔|团长看|打开"
)
NEGATED_DAMAGE = re.compile(r"(?:没有?|不|没什么)(?:一个|一颗|一盒)?" + DAMAGE)

RULES: tuple[Rule, ...] = (
    # after-sales: a complaint needs no question mark
    Rule("after_sales", 0.9, re.compile(r"售后|退款|退货|换货|退钱|赔偿|包赔|补发|漏发|少发|发错|错发|投诉"), False),
    # 成团 status
    Rule(
        "group_status",
        0.9,
        re.compile(r"成团|拼成|团.?成|能成(?:吗|不|没)|(?:人数|人)够|够人|几个人|几人|多少人|差几|差多少|降价"),
    ),
    # cutoff
    Rule("cutoff", 0.9, re.compile(r"截单|截止|截团|结团|截至")),
    Rule(
        "cutoff",
        0.8,
        re.compile(
            r"封团|停止(?:报名|接龙|下单)|不能(?:订|接|下单|报名)了|最后一天|截(?:了|吗|没|咗)|接龙[^,]{0,3}(?:停|关)"
        ),
    ),
    # how to pay is how to order
    Rule(
        "how_to_order",
        0.85,
        re.compile(
            r"(?:怎么|咋|如何|怎样|点样|咋个)(?:付|交|给|转|畀)|(?:付|交|给|转|畀)(?:款|钱|账)?给谁|收款码|付款码|支付宝"
            r"|微信(?:付|支付|转账)|先付|(?:付|交)(?:款|钱)(?:方式|流程)|下单流程|接龙(?:流程|规则)"
        ),
    ),
    # stock asked sideways
    Rule(
        "stock",
        0.85,
        re.compile(r"断货|缺货|售罄|卖(?:完|光|晒)|抢(?:完|光)|还能(?:订|买|抢)到?[^,]{0,4}(?:吗|不|没|伐|么)"),
    ),
    # pickup asked sideways: "can I still collect at nine tonight", "where was it put"
    Rule(
        "pickup_time",
        0.8,
        re.compile(
            r"(?:还能|能|可以)(?:去|过去)?(?:拿|取|提|领|攞)(?:到|货)?(?:吗|不|没|伐|吧|么)|(?:再|才)(?:去)?拿(?:行|可以|吗)"
        ),
    ),
    Rule(
        "pickup_place",
        0.85,
        re.compile(
            r"放(?:在|到)?(?:哪|什么地方|啥地方|边度)|东西在哪|(?:在|去)哪(?:儿|里)?(?:拿|取|提|领|拎|攞)|边度(?:拿|攞|拎)"
        ),
    ),
    Rule("group_status", 0.85, re.compile(r"满人|达标|人齐|凑齐|凑够|第几档|降到[0-9]+|拼到")),
    Rule(
        "cutoff",
        0.85,
        re.compile(
            r"(?:接龙|下单|报名|订)到几点|最晚.{0,4}(?:接龙|下单|报名|订)|(?:几点|什么时候|啥时候|几时|几号|哪天)截"
        ),
    ),
    Rule("cutoff", 0.8, re.compile(r"还能(?:接龙|接|下单|报名|订|参加|跟)|还来得及|(?:团|接龙).{0,6}结束")),
    # pickup time and place
    Rule("pickup_time", 0.9, re.compile(r"(?:自提|提货|取货|拿货)时间")),
    Rule("pickup_time", 0.85, re.compile(TIME_Q + r".{0,6}" + PICK + "|" + PICK + r".{0,4}" + TIME_Q)),
    Rule(
        "pickup_time",
        0.8,
        re.compile(
            r"(?:今天|明天|后天|今晚|周.|星期.|上午|下午|晚上)(?:能|可以)?(?:去|过去)?"
            + PICK
            + r"(?:货)?(?:吗|了吗|不|没)"
        ),
    ),
    Rule("pickup_place", 0.9, re.compile(r"(?:自提|提货|取货|拿货)(?:点|地址|地点|位置)")),
    Rule("pickup_place", 0.85, re.compile(WHERE_Q + r".{0,6}" + PICK + "|" + PICK + r".{0,3}" + WHERE_Q)),
    # arrival
    Rule(
        "arrival",
        0.85,
        re.compile(
            r"到货|发货|来货|货.{0,3}(?:来|到)|到了(?:吗|没|么|伐|不)|(?:什么时候|啥时候|几时|几号|哪天|几点)(?:能)?到(?!几)"
            r"|(?:今天|明天|后天|周.|星期.)(?:能|可以)?到(?:吗|不|没|伐|么)?$|能到(?:吗|不|没|伐)|还没(?:到|来|发)"
        ),
    ),
    # how to order
    Rule(
        "how_to_order",
        0.85,
        re.compile(r"(?:怎么|咋|如何|怎样|要怎么)" + ORDER_VERB + r"|(?:在哪|哪里|哪儿)(?:下单|接龙|报名|订|买)"),
    ),
    Rule("how_to_order", 0.85, re.compile(r"接龙(?:格式|怎么写|的格式)|不会接龙|(?:怎么|如何)(?:参加|跟)团")),
    Rule("how_to_order", 0.75, re.compile(r"(?:怎么|咋|如何|怎样)" + VAGUE_VERB)),
    # stock
    Rule(
        "stock",
        0.85,
        re.compile(r"有莫得|有没有货|有货(?:吗|没|不|么)|没货|卖完|卖光|抢完|抢光|售罄|库存|还剩|剩(?:多少|几)"),
    ),
    Rule("stock", 0.8, re.compile(r"还有(?!人)[^,.!?]{0,6}?(?:吗|么|嘛|没有|没|不|伐|冇|莫得)|还够")),
    Rule("stock", 0.75, re.compile(r"还有多少")),
    # the asker's own orders: "我订了几盒", "我接龙了吗", "我一共多少钱"
    Rule(
        "my_orders",
        0.85,
        re.compile(
            r"我(?:家|们家|的)?[^,你]{0,6}?(?:订|接龙|接|买|报|下单|记)(?:了|咗|上|到|没|好)?[^,]{0,6}?"
            r"(?:几|多少|好多|啥|什么|乜|吗|么|没|未|不|伐)"
            r"|我的(?:订单|接龙|单|账)|(?:查|看)(?:一?下|看)?我的|我(?:一共|总共|该|要|得)[^,]{0,4}(?:多少|几)"
        ),
    ),
    # the open buys: "今天有什么团?"
    Rule(
        "whats_on",
        0.85,
        re.compile(
            r"(?:有|团|卖|开|上)(?:了|些)?(?:什么|啥|哪些|啥子|咩|乜嘢?|乜)(?:团|新|好|可以|能|东西|商品|吃的|水果|卖|买)"
            r"|(?:今天|今日|今儿个?|最近|这周|本周|现在|明天|目前|这期)[^,]{0,4}(?:团|卖)(?:什么|啥|咩|乜)"
            r"|团购(?:清单|列表)|什么团|啥团|咩团|哪些团|新团|别的团|其他团|开团(?:了|没)"
        ),
    ),
    # when a flash sale starts: "秒杀什么时候开始", "几点开抢" (the answer names the sales, or what is on)
    Rule(
        "whats_on",
        0.9,
        re.compile(
            r"(?:几点|什么时候|啥时候|几时|哪天|几号)(?:开始)?(?:开抢|开卖|抢购|秒杀|开秒)"
            r"|(?:秒杀|抢购|开抢)(?:活动)?(?:是|在)?(?:几点|什么时候|啥时候|几时|哪天|几号)(?:开始|开抢)?"
        ),
    ),
    # the catalogue's spec: "车厘子几斤一箱?"
    Rule(
        "spec",
        0.85,
        re.compile(
            r"(?:几|多少|好多|几多)(?:斤|两|克|g|个|颗|枚|只|杯|粒)(?!人)|多重|多大|规格|果径|净重|斤装|[0-9]+斤装"
            r"|大果|小果|几j"
        ),
    ),
    # price
    Rule(
        "price",
        0.9,
        re.compile(
            r"多少钱|多钱|几块|几多钱|几钱|啥价|什么价|价格|价钱|单价|怎么卖|咋卖|怎卖|多少米|贵不贵"
            r"|多少一(?:盒|箱|斤|袋|个|份)|一(?:盒|箱|斤|袋|份|个)(?:多少|几)|降到多少"
        ),
    ),
)

# Words that explain themselves in any question: particles, pronouns, time words, quantities, units, fillers.
STOP_WORDS = frozenset(
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
