"""The docs in the repository say what the code does: docs/config.md names every config key and placeholder and its
example passes `tuanbot check` and gives the 汇总 it shows; README and docs link only to files in the repository."""

from __future__ import annotations

import re
import typing
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import Config, check_config
from bot.config.posts import COLUMN_PLACEHOLDERS, COLUMN_PRODUCT_PLACEHOLDERS
from tests.conftest import REPO
from tests.harness import BotHarness, at, chain

CONFIG_MD = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every YAML key of `model`, dotted (`buys.items.price`)."""
    out = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        out.append(prefix + name)
        args = [field.annotation, *typing.get_args(field.annotation)]
        args += [a for arg in args for a in typing.get_args(arg)]
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                out.extend(keys(arg, f"{prefix}{name}."))
    return out


WRITTEN_AS_TEXT = {"quiet_hours.start", "quiet_hours.end", "columns.at.weekday", "columns.at.time"}  # "22:00-08:00"


@pytest.mark.parametrize("key", [k for k in keys(Config) if k not in WRITTEN_AS_TEXT])
def test_config_md_names_every_key(key: str) -> None:
    leaf = key.rsplit(".", 1)[-1]
    # as `key`, `section.key`, `items[].key` or `key.sub` in a table row or the text
    pattern = rf"`(?:[\w\[\]]+\.)*{leaf}(?:\.\w+)*`"
    assert re.search(pattern, CONFIG_MD), f"docs/config.md does not describe {key}"


def test_config_md_names_every_placeholder() -> None:
    for name in COLUMN_PLACEHOLDERS:
        assert f"`{{{name}}}`" in CONFIG_MD
    for kind in COLUMN_PRODUCT_PLACEHOLDERS:
        assert f"`{{{kind}:NAME}}`" in CONFIG_MD
    for other in ("{missing}", "{title}", "{what}"):
        assert other in CONFIG_MD


def example(tmp_path: Path) -> Path:
    yaml = CONFIG_MD.split("## Example\n\n```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "columns").mkdir()
    (tmp_path / "columns" / "friday.md").write_text("【周五新品预告】{buys}\n", encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(yaml, encoding="utf-8")
    return path


def test_the_config_md_example_passes_check(tmp_path: Path) -> None:
    result = check_config(example(tmp_path))
    assert (result.errors, result.warnings) == ([], [])


async def test_the_config_md_summary_is_what_the_leader_gets(tmp_path: Path, data_dir: Path) -> None:
    config = check_config(example(tmp_path)).config
    assert config is not None
    shown = CONFIG_MD.split("the leader's `汇总` reads:\n\n```\n", 1)[1].split("```", 1)[0].strip()
    async with BotHarness(data_dir, config=config, start=at("2026-11-28 10:00")) as bot:
        header = "#接龙 五常大米阶梯团"
        await bot.say("王阿姨", chain(header, "3栋 王阿姨 大米2袋", "5-1201 李姐 五常大米3袋"))
        await bot.say("陈叔", chain(header, "2栋 陈叔 大米1袋", "6栋 何姐 大米1袋"), "阳光花园2号群")
        await bot.settle(horizon=timedelta(minutes=5))
        # the digests and nudges are not this test's subject: read as they are
        for group in ("阳光花园1号群", "阳光花园2号群"):
            said = bot.expect_said(list(bot.said(group)), group)
            assert any(text.startswith("✅ 已记录") for text in said)
        await bot.say("张姐", "汇总 dami-1201")
        assert bot.expect_said([shown]) == [shown]


@pytest.mark.parametrize("doc", ["README.md", *(f"docs/{p.name}" for p in sorted((REPO / "docs").glob("*.md")))])
def test_links_stay_inside_the_repository(doc: str) -> None:
    path = REPO / doc
    text = path.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if doc == "README.md":
            assert not re.match(r"[a-z]+:", target), f"README points outside the repository: {target}"
        if re.match(r"[a-z]+://", target):
            continue  # another doc may cite a public page
        file = (path.parent / target.split("#", 1)[0]).resolve()
        assert file.is_relative_to(REPO.resolve()), f"{doc}: {target} points outside the repository"
        assert file.exists(), f"{doc}: {target} is not a file in the repository"
    for word in ("../shared", "/work/"):
        assert word not in text, f"{doc} names {word}"
