"""Data, not logic: the plain words and English words neighbours use for catalogue products.

`bot/parsing/loose_names.py` turns these into matches against one leader's catalogue. Nothing here names a product of
a particular catalogue: an entry only ever points at *Chinese words*, and a word counts for a catalogue only when it is
one of its names or aliases, or a head word derived from them that points at exactly one of its products. So a
catalogue that sells no crab never matches `crab`, and one that sells two kinds of egg never matches `蛋` or `egg`
unless one of them is plainly *the* egg (`鸡蛋` as an alias).

Edit these tables to teach the bot a word; keep each entry a common word, never a shop's product name.
"""

from __future__ import annotations

__all__ = ["ENGLISH", "HEAD_WORDS", "NOT_THE_HEAD"]

# A name or alias ending in the key character is a kind of that thing, and neighbours call it by these plain words
# (`五常大米` → 米, `砂糖橘` → 橘子/桔子, `大闸蟹` → 蟹/螃蟹). 橘 and 桔 are one fruit written two ways. A
# character that is a common word on its own only in a longer form (李 is a surname, 柿 no word) gives only that.
_ORANGE = ("橘", "桔", "橘子", "桔子")
HEAD_WORDS: dict[str, tuple[str, ...]] = {
    "蟹": ("蟹", "螃蟹"),
    "米": ("米",),
    "橘": _ORANGE,
    "桔": _ORANGE,
    "橙": ("橙", "橙子"),
    "柚": ("柚", "柚子"),
    "梨": ("梨", "梨子"),
    "桃": ("桃", "桃子"),
    "枣": ("枣", "枣子"),
    "李": ("李子",),
    "杏": ("杏", "杏子"),
    "柿": ("柿子",),
    "蛋": ("蛋",),
    "奶": ("奶",),
    "肉": ("肉",),
    "鱼": ("鱼",),
    "虾": ("虾",),
    "油": ("油",),
    "茶": ("茶", "茶叶"),
    "笋": ("笋",),
}

# Endings that look like a kind of the head but are a different food: a cherry (樱桃) is no peach (桃), corn (玉米) and
# millet (小米) are not the rice (米) neighbours mean, yogurt (酸牛奶) is not milk (牛奶), squid (鱿鱼) is no fish, soy
# sauce (酱油) no cooking oil, milk tea (奶茶) no tea. A name or alias ending so yields none of the listed words.
_PEACH = ("桃", "桃子")
NOT_THE_HEAD: dict[str, tuple[str, ...]] = {
    "樱桃": _PEACH,
    "核桃": _PEACH,
    "胡桃": _PEACH,
    "杨桃": _PEACH,
    "猕猴桃": _PEACH,
    "玉米": ("米",),
    "小米": ("米",),
    "虾米": ("米",),
    "花生米": ("米",),
    "薏米": ("米",),
    "酸牛奶": ("牛奶",),
    "鱿鱼": ("鱼",),
    "墨鱼": ("鱼",),
    "章鱼": ("鱼",),
    "鲍鱼": ("鱼",),
    "甲鱼": ("鱼",),
    "蟹肉": ("肉",),
    "虾肉": ("肉",),
    "果肉": ("肉",),
    "椰肉": ("肉",),
    "酱油": ("油",),
    "蚝油": ("油",),
    "奶茶": ("茶",),
}

# English (singular, lower case) → the Chinese words it means, tried in order against the catalogue: the first that
# is a name, an alias or a head word of the catalogue decides (a word the catalogue finds ambiguous stops the search:
# `orange` must not fall through to 橘 when two 橙 products are on sale). Plurals are read by `loose_names`.
_MANDARIN = ("砂糖橘", "橘子", "橘")
ENGLISH: dict[str, tuple[str, ...]] = {
    "strawberry": ("草莓",),
    "cherry": ("车厘子", "樱桃"),
    "apple": ("苹果",),
    "crab": ("螃蟹", "蟹"),
    "hairy crab": ("大闸蟹", "毛蟹", "螃蟹", "蟹"),
    "yogurt": ("酸奶",),
    "yoghurt": ("酸奶",),
    "yogourt": ("酸奶",),
    "beef": ("牛肉",),
    "rice": ("大米", "米"),
    "egg": ("鸡蛋", "蛋"),
    "chicken egg": ("鸡蛋",),
    "duck egg": ("鸭蛋",),
    "salted duck egg": ("咸鸭蛋", "鸭蛋"),
    "mandarin": _MANDARIN,
    "tangerine": _MANDARIN,
    "clementine": _MANDARIN,
    "orange": ("橙子", "橙", "橘子", "橘"),
    "milk": ("牛奶", "纯牛奶", "鲜奶"),
    "pork": ("猪肉",),
    "pork belly": ("五花肉",),
    "lamb": ("羊肉",),
    "mutton": ("羊肉",),
    "chicken": ("鸡肉", "鸡"),
    "fish": ("鱼",),
    "shrimp": ("虾",),
    "prawn": ("虾",),
    "banana": ("香蕉",),
    "grape": ("葡萄",),
    "blueberry": ("蓝莓",),
    "mango": ("芒果",),
    "pear": ("梨",),
    "peach": ("桃子", "桃"),
    "watermelon": ("西瓜",),
    "lychee": ("荔枝",),
    "litchi": ("荔枝",),
    "durian": ("榴莲",),
    "kiwi": ("猕猴桃",),
    "kiwifruit": ("猕猴桃",),
    "pomelo": ("柚子", "柚"),
    "grapefruit": ("柚子", "柚"),
    "potato": ("土豆",),
    "tomato": ("番茄", "西红柿"),
    "corn": ("玉米",),
    "noodle": ("面条",),
    "flour": ("面粉",),
    "tea": ("茶叶", "茶"),
    "honey": ("蜂蜜",),
}
