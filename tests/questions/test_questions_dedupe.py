"""`benchmarks/questions_dedupe.py`: a new labelled line equal to a line of another set (spaces aside) or to an earlier
line of the same file is dropped, and only the new file's own lines are shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import questions_dedupe


def test_a_line_another_set_holds_is_dropped_and_only_the_new_files_lines_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "questions_new.tsv"
    new.write_text(
        "# a header line\n"
        "小团你好 俺想问问这个东西到时候上哪儿去拿啊\tpickup_place\t\n"  # in questions_tuning_d1.tsv
        "小团你好俺想问问这个东西到时候上哪儿去拿啊\tpickup_place\t\n"  # the same, spaces aside
        "隔壁楼的快递柜今天修好了没有呀\tnone\t\n"
        "隔壁楼的快递柜今天修好了没有呀\tnone\t\n",  # twice in the new file
        encoding="utf-8",
    )
    assert questions_dedupe.main([str(new)]) == 0
    assert new.read_text(encoding="utf-8") == "# a header line\n隔壁楼的快递柜今天修好了没有呀\tnone\t\n"
    assert capsys.readouterr().out.splitlines() == [
        "kept 1 data lines, dropped 3:",
        "  小团你好 俺想问问这个东西到时候上哪儿去拿啊\tpickup_place\t",
        "  小团你好俺想问问这个东西到时候上哪儿去拿啊\tpickup_place\t",
        "  隔壁楼的快递柜今天修好了没有呀\tnone\t",
    ]
