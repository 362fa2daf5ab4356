"""Shared fixtures for the parsing tests: the corpus of real 接龙 messages and one warmed-up catalogue matcher."""

from __future__ import annotations

import re

import pytest

from bot.parsing.products import ProductMatcher
from tests.conftest import CORPUS

_COMMENT = re.compile(r"# (?:source|note|features|caveat):")

CATALOGUE: list[tuple[str, list[str]]] = [
    ("草莓", []),
    ("蓝莓", []),
    ("苹果", []),
    ("面粉", ["白面"]),
    ("橙子", ["橙"]),
    ("牛排", []),
    ("面包", []),
    ("西瓜", []),
    ("橘子", []),
    ("砂糖橘", ["沙糖桔"]),
    ("百香果", []),
    ("麦辣鸡腿堡", []),
    ("麦辣鸡翅", []),
]


def load_corpus(name: str) -> str:
    """A corpus file without its leading `# source:` / `# note:` / `# features:` / `# caveat:` lines."""
    lines = (CORPUS / name).read_text(encoding="utf-8").split("\n")
    while lines and _COMMENT.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines)


@pytest.fixture(scope="session")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> ProductMatcher:
    m = ProductMatcher(CATALOGUE, units={"草莓": "盒", "百香果": "箱"}, cache_dir=tmp_path_factory.mktemp("jieba"))
    m.warm_up()
    return m
