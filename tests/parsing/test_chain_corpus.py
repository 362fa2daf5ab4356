"""Every corpus sample parsed, with the expected header, examples, tail and entries written out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from bot.parsing.chain import ParsedChain, is_chain, parse_chain
from bot.parsing.products import ProductMatcher
from tests.parsing.conftest import CORPUS, load_corpus

ItemT = tuple[str, bool, str, str | None]


@dataclass(frozen=True)
class E:
    """One expected entry; items/remark None = not checked (check-in and link chains: only structure and who)."""

    seq: int
    raw: str
    who: str
    items: tuple[ItemT, ...] | None = None
    remark: str | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class Expected:
    header: str | None
    entries: tuple[E, ...]
    examples: tuple[str, ...] = ()
    tail: str = ""
    sender_prefix: str | None = None


EXPECTED: dict[str, Expected] = {
    "chain_001.txt": Expected(
        header="",
        entries=(
            E(1, "We.SNM", "We.SNM", (), ""),
            E(
                2,
                "冰✡️saya🫧 麦辣鸡腿堡 + 麦辣鸡翅 + 桃气醒醒气泡美式",
                "冰✡️saya🫧",
                (),
                "麦辣鸡腿堡 + 麦辣鸡翅 + 桃气醒醒气泡美式",
            ),
            E(3, "不要向我手指的方向看 e 烤🐔", "不要向我手指的方向看", (), "e 烤🐔"),
            E(4, "Jaxon J 鸡胸球", "Jaxon", (), "J 鸡胸球"),
            E(5, "Sirius J 三文鱼", "Sirius", (), "J 三文鱼"),
            E(6, "Pepsi 凤梨板烧四件套", "Pepsi", (), "凤梨板烧四件套"),
            E(7, "小白的黑色幽默 L 🍤芦笋🥚", "小白的黑色幽默", (), "L 🍤芦笋🥚"),
            E(8, "Jasper L🦐", "Jasper", (), "L🦐"),
            E(9, "hans k🐮", "hans", (), "k🐮"),
            E(10, "Bruce_Chen J 鸡胸", "Bruce_Chen", (), "J 鸡胸"),
            E(11, "Henry J 鸡胸", "Henry", (), "J 鸡胸"),
        ),
    ),
    "chain_002.txt": Expected(
        header=None,
        entries=(),
    ),
    "chain_003.txt": Expected(
        header="#接龙🥗轻食 5/8 接力棒棒棒🏃\u200d♀️🏃\u200d♂️\n\n牛气餐厅\nC：牛肋条\nD：鸡腿\nE：牛\nF：香肠\nH：三鲜\nJ：喜三鲜\n\n请大家接龙：",  # noqa: E501
        entries=(
            E(6, "Lqz13Th E 🐮", "Lqz13Th", (), "E 🐮"),
            E(7, "冰✡️saya 🫧 C 牛肋条", "冰✡️saya 🫧", (), "C 牛肋条"),
            E(8, "Bruce_Chen C🐔🐮", "Bruce_Chen", (), "C🐔🐮"),
            E(9, "Jaxon 喜三鲜", "Jaxon", (), "喜三鲜"),
            E(10, "Henry D 烤牛 不要酱+青椒洋葱+酸黄瓜酸辣椒", "Henry", (), "D 烤牛 不要酱+青椒洋葱+酸黄瓜酸辣椒"),
            E(11, "W E 牛", "W", (), "E 牛"),
            E(12, "Furyfrog H 三鲜", "Furyfrog", (), "H 三鲜"),
            E(13, "hans h三鲜", "hans", (), "h三鲜"),
        ),
    ),
    "chain_004.txt": Expected(
        header="#接龙\n半个南瓜 等会送来 共20份",
        tail="三点截单",
        entries=(
            E(1, "295-909 6份", "295-909", (("", False, "6", "份"),), ""),
            E(2, "295-910 8份", "295-910", (("", False, "8", "份"),), ""),
            E(3, "295-204 2份", "295-204", (("", False, "2", "份"),), ""),
        ),
    ),
    "chain_005.txt": Expected(
        header="#接龙\n这个是接龙填的名称，简介啥的",
        examples=("例 这个是对下面格式的说明，对系统没太大用处，无法解析，主要是接龙时别人用的",),
        tail="大家快点接龙，三点结束",
        entries=(
            E(
                1,
                "295-909 五斤西瓜，十斤苹果",
                "295-909",
                (("西瓜", False, "5", "斤"), ("苹果", False, "10", "斤")),
                "",
            ),
            E(2, "295-910 六斤西瓜，三斤苹果", "295-910", (("西瓜", False, "6", "斤"), ("苹果", False, "3", "斤")), ""),
            E(3, "尘 十斤西瓜，五斤苹果", "尘", (("西瓜", False, "10", "斤"), ("苹果", False, "5", "斤")), ""),
        ),
    ),
    "chain_006.txt": Expected(
        header="#接龙\n接龙，这次不填写接龙格式，也不填写补充信息",
        entries=(
            E(1, "尘 消毒液两瓶", "尘", (("消毒液", False, "2", "瓶"),), ""),
            E(2, "295-909 消毒药三瓶", "295-909", (("消毒药", False, "3", "瓶"),), ""),
        ),
    ),
    "chain_007.txt": Expected(
        header="#接龙\n半个南瓜 等会送来 共20份",
        examples=("例 楼栋号-房间号 需要多少份",),
        tail="三点截单",
        entries=(
            E(1, "295-909 6份", "295-909", (("", False, "6", "份"),), ""),
            E(2, "295-910 8份", "295-910", (("", False, "8", "份"),), ""),
            E(3, "295-204 2份", "295-204", (("", False, "2", "份"),), ""),
        ),
    ),
    "chain_008.txt": Expected(
        header="#接龙\n各种蔬菜瓜果",
        examples=("例 姓名手机，楼号，室号，内容",),
        entries=(
            E(
                1,
                "张三18012345678，1号，101室，番茄1斤",
                "张三18012345678，1号，101室",
                (("番茄", False, "1", "斤"),),
                "",
            ),
            E(
                2,
                "李四18012345678，1号，102室，黄瓜1斤",
                "李四18012345678，1号，102室",
                (("黄瓜", False, "1", "斤"),),
                "",
            ),
            E(
                3,
                "王五18012345678，1号，103室，青菜5斤",
                "王五18012345678，1号，103室",
                (("青菜", False, "5", "斤"),),
                "",
            ),
        ),
    ),
    "chain_009.txt": Expected(
        header="#接龙\n下午5.3左右到",
        entries=(
            E(1, "A材料学院水果美食团购", "A材料学院水果美食团购", (), ""),
            E(2, "Laine. 半个西瓜，西北", "Laine.", (("西瓜", False, "0.5", "个"),), "西北"),
            E(3, "朝夕。 蟠桃1斤 脆桃2斤", "朝夕。", (("蟠桃", False, "1", "斤"), ("脆桃", False, "2", "斤")), ""),
            E(4, "fantasy 西瓜果切两盒", "fantasy", (("西瓜果切", False, "2", "盒"),), ""),
        ),
    ),
    "chain_010.txt": Expected(
        header="",
        entries=(
            E(1, "", "", (), "", cancelled=True),
            E(2, "倪彩霞 gt7", "倪彩霞", (), "gt7"),
            E(3, "莓心", "莓心", (), ""),
            E(4, "王燕燕 512 白色", "王燕燕 512", (), "白色"),
        ),
    ),
    "chain_011.txt": Expected(
        header="",
        entries=(
            E(1, "", "", (), "", cancelled=True),
            E(2, "倪彩霞\ngt7", "倪彩霞", (), "gt7"),
            E(3, "莓心", "莓心", (), ""),
            E(4, "王燕燕\n512 白色", "王燕燕", (), "512 白色"),
        ),
    ),
    "chain_012.txt": Expected(
        header="",
        entries=(
            E(1, "张三 2份", "张三", (("", False, "2", "份"),), ""),
            E(2, "李雷 1", "李雷", (("", False, "1", None),), ""),
            E(
                3,
                "3栋王姐 3份\n张三改成3份\n李四不要了\n收到\n…\n（闲聊、表情、时间戳会自动滤掉）",
                "3栋王姐",
                (("", False, "3", "份"),),
                "张三改成3份 李四不要了 收到 … （闲聊、表情、时间戳会自动滤掉）",
            ),
        ),
    ),
    "chain_013.txt": Expected(
        header="@真AI健身教练Jessie  打卡#接龙\n\n6月26日打卡 伙伴们加油💪🏻",
        examples=("例 打卡第X天\n训练部位：训练动作 训练时长\n（可选：饮食、睡眠记录\n（可选：其他心得分享",),
        entries=(
            E(1, "Kevin涛-增肌-8年~18天 打卡19天\n胸部：俯卧撑100个\n全身：波比跳20个", "Kevin涛-增肌-8年~18天"),
            E(2, "Jasmine 打卡14天 快走20分钟", "Jasmine"),
            E(3, "gooney-增肌-3年-17天 打卡 第19天 腿部训练 60分钟", "gooney-增肌-3年-17天"),
        ),
    ),
    "chain_014.txt": Expected(
        header="#接龙\n早六点半到九点半 运动照灯学习吃饭吃药",
        entries=(
            E(1, "清川 早六点半到九点半 运动照灯学习吃饭吃药", "清川"),
            E(2, "大螃蟹 7:20-8:35 玩手机，洗漱收拾，吃早饭，学习拍照基础知识", "大螃蟹"),
            E(3, "forever 扣手机、早餐、看书", "forever"),
            E(4, "吃可爱长大的 早餐、打扫、做午饭、收拾猫砂", "吃可爱长大的"),
            E(5, "Sheep 早餐,看spring源码视频", "Sheep"),
            E(6, "Bean 吃早饭，看CAP Twelve Years Later", "Bean"),
            E(7, "鹌鹑的乌龟 7:45-8:20 跳操拉伸 8:25-9:30 洗漱+搬砖通勤", "鹌鹑的乌龟"),
            E(8, "萨小坦 6:30 洗澡吹头7:10出门打工", "萨小坦"),
            E(9, "立夏 7-8洗漱通勤 8-9工位学习", "立夏"),
            E(10, "XQian 7:20-9:14洗漱，吃早饭，抖音，刷碗，磨蹭出门", "XQian"),
        ),
    ),
    "chain_015.txt": Expected(
        header="#接龙",
        sender_prefix="wxid_fmtmadnn7den12",
        entries=(
            E(1, "和尚 7-10，补觉咖啡修暖气收拾纸箱看后期", "和尚"),
            E(2, "Bean 早饭+daily plan+极客时间大数据论文", "Bean"),
            E(3, "forever 7.50-9.20 早餐、刷剧", "forever"),
            E(4, "大螃蟹 7:23-8:40 洗漱收拾，早餐，B站", "大螃蟹"),
            E(5, "大京 6-9：了解TODO类APP+肌肉放松核心激活+早餐+学穿搭", "大京"),
            E(6, "星航 耍手机，读书半小时", "星航"),
            E(7, "Carrie🌿 7:20-8:45 起床，跳绳，洗澡，收拾通勤。", "Carrie🌿"),
            E(8, "萤窗小语 7.35起床，吃早饭，化妆，听广播，结束居家隔离这周第一天去上班感觉还行", "萤窗小语"),
            E(9, "清川 7点半到九点半上厕所学习吃早饭看卿卿日常！化妆", "清川"),
            E(10, "鹌鹑的乌龟 7:30-8:20 发呆 读书 8:20-9:30 洗漱 通勤", "鹌鹑的乌龟"),
            E(11, "XQian 7:24-7:40赖床7:40-8:20洗漱8:20-9:00学习9:00-9:30吃饭，看剧，出门", "XQian"),
            E(12, "Sheep 7-8.30 爬楼,早餐,搭建环境", "Sheep"),
            E(13, "吃可爱长大的 6:10-8:15吃早饭做午饭，打扫卫生，运动", "吃可爱长大的"),
        ),
    ),
    "chain_016.txt": Expected(
        header="6月1日打卡",
        entries=(
            E(1, "Kevin涛 打卡第 1 天\n胸部：俯卧撑 100 个", "Kevin涛"),
            E(2, "夔 打卡第一天\n俯卧撑 60 引体向上 10 个", "夔"),
            E(3, "浪仔 打卡第一天\n羽毛球 🏸️ 两小时\n修改", "浪仔"),
            E(4, "gooney 打卡第一天\n背部训练➕爬坡走", "gooney"),
            E(
                5,
                "R 打卡第一天\n撸铁练背 45 分钟\nHIIT 20 分钟\n\n饮食：参加 investor day，早上吃了一个小的牛角包，中午自助餐吃了跟多，还好没有很多 carbs，晚上酒会又吃了点小零食，晚上加餐吃了一个鸡蛋\n\n吃的不算干净，今天吃干净一点\n午饭少吃点",  # noqa: E501
                "R",
            ),
            E(6, "夜莺 打卡第 1 天\n平板支撑 2 分半\n瘦腰腹 7 分钟\n蹲马步 3 分钟", "夜莺"),
        ),
    ),
    "chain_017.txt": Expected(
        header="6月4日打卡",
        entries=(
            E(1, "Kevin涛-增肌-8 年 打卡第 3 天\n肩部：倒立俯卧撑 10 分钟", "Kevin涛-增肌-8"),
            E(2, "浪仔 打卡第二天\n羽毛球 🏸️2 小时", "浪仔"),
            E(3, "Jasmine 打卡第一天\n吉尼瘦背 15 分钟", "Jasmine"),
            E(4, "台风-chatgpt魔法师 打卡第一天 慢跑 20 多分钟", "台风-chatgpt魔法师"),
        ),
    ),
    "chain_018.txt": Expected(
        header="@真AI健身教练Jessie  打卡#接龙\n\n7月2日打卡 伙伴们加油💪🏻",
        examples=("例 打卡第n天\n训练部位：训练动作 训练时长\n（可选：饮食、睡眠记录\n（可选：其他心得分享",),
        entries=(
            E(1, "Kevin涛-增肌-8 年", "Kevin涛-增肌-8"),
            E(2, "。 打卡第2天，羽毛球2小时", "。"),
            E(3, "林文冠Kevin  |  AI探索者 补打卡，本月第一天，2.5小时羽毛球", "林文冠Kevin  |  AI探索者"),
            E(4, "夔 打卡第一天俯卧撑60引体15平板2分", "夔"),
            E(5, "诸践恒 打卡第二天，肩后束专项45分钟", "诸践恒"),
            E(6, "R 第二天，帕梅拉45分钟有氧", "R"),
            E(7, "邓邦浪 打卡第二天 俯卧撑80 深蹲100", "邓邦浪"),
        ),
    ),
    "chain_019.txt": Expected(
        header="@真AI健身教练Jessie  打卡#接龙\n\n7月3日打卡 伙伴们加油💪🏻",
        examples=("例 打卡第n天\n训练部位：训练动作 训练时长\n（可选：饮食、睡眠记录\n（可选：其他心得分享",),
        entries=(
            E(1, "Kevin涛-增肌-8 年 打卡第1天\n肩部：倒立俯卧撑练习10分钟\n胸部：俯卧撑100个", "Kevin涛-增肌-8"),
            E(2, "#客家阿俊 打卡第一天Sps 肌肉链训练 +呼吸训练45分钟", "#客家阿俊"),
            E(3, "王太白 训记二分化上身", "王太白"),
            E(4, "诸践恒 倒立 负重俯卧撑 引体 二头三头 侧平举合计一个半小时", "诸践恒"),
            E(5, "台风-chatgpt魔法师 第一天 跑步半小时", "台风-chatgpt魔法师"),
            E(6, "夔 打卡第二天引体向上10深蹲50", "夔"),
            E(7, "R 第3天 练肩膀8/10lbs，40分钟+20分钟有氧", "R"),
            E(8, "林文冠Kevin  |  AI探索者 第2天，力量训练30分钟，举哑铃，卷腹", "林文冠Kevin  |  AI探索者"),
            E(9, "邓邦浪  打卡第三天 俯卧撑90个 深蹲100个", "邓邦浪"),
            E(10, "。 打卡第3天 羽毛球🏸2小时", "。"),
        ),
    ),
    "chain_020.txt": Expected(
        header="7月5日真AI健身 伙伴们加油💪🏻\n\n@真AI健身教练Jessie #接龙",
        examples=("例 打卡第n天\n训练部位：训练动作 训练时长\n（可选：饮食、睡眠记录\n（可选：其他心得分享",),
        entries=(
            E(1, "Kevin涛-增肌-21天 第22天\n肩部：倒立俯卧撑练习10分钟", "Kevin涛-增肌-21天"),
            E(2, "夜莺 第一天  平板支撑3分20秒，keep打卡15分钟，练腰腹。", "夜莺"),
            E(3, "张文光 打卡第2天 背部训练 80分钟", "张文光"),
            E(4, "少年宝玉 打卡 第2天 臀部训练 60mins", "少年宝玉"),
            E(5, "诸践恒 二头弯举，碎颅式，直臂下压 60mins", "诸践恒"),
            E(6, "。 打卡第5天，力量训练1h，羽毛球2h", "。"),
            E(7, "夔 打卡第二天羽毛球一小时", "夔"),
            E(8, "Jasmine 打卡18天 帕梅拉减脂操20分钟", "Jasmine"),
            E(9, "R 打卡32天，生病恢复中，15分钟小跑", "R"),
            E(10, "林文冠Kevin  |  AI探索者 第4天，羽毛球2小时，力量训练15分钟", "林文冠Kevin  |  AI探索者"),
        ),
    ),
    "chain_021.txt": Expected(
        header="#接龙搞起来！！！",
        entries=(
            E(1, "Edison 高质量互访在线秒回🌹http://t.csdn.cn/tABP2", "Edison"),
            E(2, "编程爱好者-阿新 http://t.csdn.cn/K23Mt", "编程爱好者-阿新"),
            E(3, "叶落秋白\nhttp://t.csdn.cn/XjFbY", "叶落秋白"),
            E(28, "移步 http://t.csdn.cn/OWJTx 三连必回", "移步"),
        ),
    ),
    "chain_022.txt": Expected(
        header="#接龙\n8月3号",
        entries=(
            E(1, "redamancy http://t.csdn.cn/QxaEF\nIDEA相关配置", "redamancy"),
            E(2, "redamancy http://t.csdn.cn/e5gns\nIDEA创建模块", "redamancy"),
            E(3, "redamancy http://t.csdn.cn/VxDAN\n在hadoop102中安装hadoop", "redamancy"),
            E(
                4,
                "csdn-跳楼梯企鹅\nhttps://blog.csdn.net/weixin_50481708/article/details/126132190?spm=1001.2014.3001.5501",
                "csdn-跳楼梯企鹅",
            ),
            E(5, "AK47 http://t.csdn.cn/3OAZi", "AK47"),
            E(6, "if\nhttp://t.csdn.cn/XjFbY\nMysql视图索引事务，互奶", "if"),
            E(7, "花神庙码农@CSDN\nhttp://t.csdn.cn/4GOar", "花神庙码农@CSDN"),
            E(8, "小鹏linux\n\nvip+高等级原力。高权重回访http://t.csdn.cn/BNMM4", "小鹏linux"),
            E(9, "Lanson http://t.csdn.cn/4puFR\n互三连，有来必有高质量回访", "Lanson"),
            E(10, "CSDN—风铃听雨～ http://t.csdn.cn/hJ81w\n新文章，诚信互三", "CSDN—风铃听雨～"),
            E(11, "@每天都要敲代码\nhttp://t.csdn.cn/1T5G6", "@每天都要敲代码"),
            E(12, "💯 http://t.csdn.cn/aIG5T", "💯"),
            E(13, "移步 http://t.csdn.cn/OWJTx  三连必回", "移步"),
            E(14, "promise https://blog.csdn.net/m0_71485750/article/details/125994087 互三有关必回", "promise"),
            E(15, "渟 http://t.csdn.cn/1eXqf 三连互动[玫瑰]", "渟"),
            E(16, "Yeap http://t.csdn.cn/pumq4 评论区回", "Yeap"),
            E(17, "泡泡", "泡泡"),
            E(18, "CSDN Flyme awei\nhttp://t.csdn.cn/xDRNx", "CSDN"),
            E(19, "Redis面试 http://t.csdn.cn/3qfEc 三连必回！", "Redis面试"),
            E(20, "青 http://t.csdn.cn/QpUnO互三互关在线回", "青"),
            E(21, "CodeMak1r. http://t.csdn.cn/AamJP互三", "CodeMak1r."),
            E(22, "CodeMak1r. http://t.csdn.cn/ncg32", "CodeMak1r."),
            E(23, "http://t.csdn.cn/eqidG", "http://t.csdn.cn/eqidG"),
        ),
    ),
    "chain_023.txt": Expected(
        header="#接龙\n百香果团购",
        entries=(
            E(1, "王霞 1箱", "王霞", (("", False, "1", "箱"),), ""),
            E(2, "钟予馨2箱", "钟予馨", (("", False, "2", "箱"),), ""),
            E(3, "昕彤1箱", "昕彤", (("", False, "1", "箱"),), ""),
        ),
    ),
    "chain_024.txt": Expected(
        header="#接龙\n测试接龙",
        examples=("例 格式示例",),
        entries=(
            E(1, "十年一刻 666666", "十年一刻 666666", (), ""),
            E(2, "77777 23423423423", "77777 23423423423", (), ""),
        ),
    ),
    "chain_025.txt": Expected(
        header="[链接/文件] #接龙 🔥老温开团【周日5.24早上送货】",
        entries=(),
    ),
    "chain_026.txt": Expected(
        header="#接龙 🎯8月大卖",
        entries=(
            E(1, "门店＋型号", "门店＋型号", (), ""),
            E(2, "金源北路GT7蓝 倪彩霞", "金源北路GT7蓝", (), "倪彩霞"),
            E(3, "南京东路 周某", "南京东路", (), "周某"),
        ),
    ),
    "chain_027.txt": Expected(
        header="#接龙 3. 周年庆",
        entries=(
            E(1, "门店＋型号", "门店＋型号", (), ""),
            E(2, "金源北路GT7蓝 倪彩霞", "金源北路GT7蓝", (), "倪彩霞"),
        ),
    ),
    "chain_028.txt": Expected(
        header="#接龙\n\n8.7",
        entries=(
            E(1, "示例事项", "示例事项", (), ""),
            E(2, "成员甲-7.19-9.7", "成员甲-7.19-9.7", (), ""),
            E(3, "成员乙-7.19-9.5", "成员乙-7.19-9.5", (), ""),
        ),
    ),
}


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.glob("chain_*.txt"))


def _items(parsed: ParsedChain, k: int) -> tuple[ItemT, ...]:
    return tuple((i.product, i.known, str(i.qty), i.unit) for i in parsed.entries[k].items)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_chain(name: str) -> None:
    expected = EXPECTED[name]
    parsed = parse_chain(load_corpus(name))
    if expected.header is not None:
        assert parsed.header == expected.header
    assert parsed.examples == expected.examples
    assert parsed.tail == expected.tail
    assert parsed.sender_prefix == expected.sender_prefix
    assert [e.seq for e in parsed.entries] == [e.seq for e in expected.entries]
    for k, (got, want) in enumerate(zip(parsed.entries, expected.entries, strict=True)):
        assert (got.raw, got.who) == (want.raw, want.who), f"entry {want.seq}"
        if want.items is not None:
            assert _items(parsed, k) == want.items, f"entry {want.seq}"
        if want.remark is not None:
            assert got.remark == want.remark, f"entry {want.seq}"
        assert got.cancelled == want.cancelled, f"entry {want.seq}"


def test_menu_header_only_chain_002() -> None:
    parsed = parse_chain(load_corpus("chain_002.txt"))
    assert parsed.entries == ()
    assert parsed.header.startswith("#接龙🥗轻食 5/7")
    assert parsed.header.endswith("I：自选 50 元内项目")
    assert "\n\n\n" not in parsed.header


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_is_chain_on_corpus(name: str) -> None:
    # every sample is a chain by its #接龙 tag or by two numbered lines
    assert is_chain(load_corpus(name))


def test_single_product_chain_023_with_default_product(matcher: ProductMatcher) -> None:
    parsed = parse_chain(load_corpus("chain_023.txt"), matcher, default_product="百香果")
    assert [(e.who, _items(parsed, k)) for k, e in enumerate(parsed.entries)] == [
        ("王霞", (("百香果", True, "1", "箱"),)),
        ("钟予馨", (("百香果", True, "2", "箱"),)),
        ("昕彤", (("百香果", True, "1", "箱"),)),
    ]


def test_fruit_chain_009_with_catalogue(matcher: ProductMatcher) -> None:
    parsed = parse_chain(load_corpus("chain_009.txt"), matcher)
    assert _items(parsed, 1) == (("西瓜", True, "0.5", "个"),)
    assert parsed.entries[1].remark == "西北"
    assert _items(parsed, 2) == (("蟠桃", False, "1", "斤"), ("脆桃", False, "2", "斤"))
    # 西瓜果切 is not 西瓜: the longer phrase stays an unknown product
    assert _items(parsed, 3) == (("西瓜果切", False, "2", "盒"),)


def test_meal_chain_001_with_catalogue(matcher: ProductMatcher) -> None:
    parsed = parse_chain(load_corpus("chain_001.txt"), matcher)
    second = parsed.entries[1]
    assert second.who == "冰✡️saya🫧"
    assert [(i.product, i.qty) for i in second.items] == [("麦辣鸡腿堡", Decimal(1)), ("麦辣鸡翅", Decimal(1))]
    assert second.remark == "桃气醒醒气泡美式"


def test_chain_005_two_items_per_line_with_catalogue(matcher: ProductMatcher) -> None:
    parsed = parse_chain(load_corpus("chain_005.txt"), matcher)
    assert [_items(parsed, k) for k in range(3)] == [
        (("西瓜", True, "5", "斤"), ("苹果", True, "10", "斤")),
        (("西瓜", True, "6", "斤"), ("苹果", True, "3", "斤")),
        (("西瓜", True, "10", "斤"), ("苹果", True, "5", "斤")),
    ]
