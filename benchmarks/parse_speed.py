"""First parse of big 接龙 inputs, in process, after warm-up (matcher built, jieba loaded), against the full slow path.

    python benchmarks/parse_speed.py [--repeat 7] [--json]

Inputs (the same builders as `tests/parsing/test_speed.py`):
  (a) realistic   10,000 entries `i. {i%30+1}栋 邻居{i} 草莓{i%3+1}盒`, with a 草莓/蓝莓 catalogue
  (b) garbage     10,000 binary-ish lines (random bytes as Latin-1, random BMP text, lines opening like entries)
  (c) long-line   one 100,000-character entry line of realistic order text
and, for reference, (a) without a catalogue and a few 100,000-character runs that used to take quadratic time.

Every parse is a first parse: the content caches are cleared before each run; the best of `--repeat` runs is
reported. `slow_ms` parses (a) the way the parser did before the fast paths (every entry through `parse_content`,
no cache) in the same run; `ratio` is each input's time over that. `--json` prints one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.parsing import quantity  # noqa: E402
from bot.parsing.chain import ChainEntry, parse_chain  # noqa: E402
from bot.parsing.entry import entry_reader, parse_content  # noqa: E402
from bot.parsing.lines import numbered  # noqa: E402
from bot.parsing.masks import Scans  # noqa: E402
from bot.parsing.products import ProductMatcher  # noqa: E402
from tests.parsing.test_speed import garbage_lines, long_line, realistic_chain  # noqa: E402

TARGET_MS = 50.0


def _clear(matcher: ProductMatcher) -> None:
    """Forget everything remembered by content: entries, typo look-ups, quantity spellings (a first parse)."""
    entry_reader(matcher).forget()
    entry_reader(None).forget()
    matcher._fuzzy_memo.clear()
    matcher._fuzzy_in_memo.clear()
    quantity._SPAN_MEMO.clear()


def best_ms(run: Callable[[], object], matcher: ProductMatcher, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        _clear(matcher)
        gc.collect()
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def slow_parse(text: str, matcher: ProductMatcher) -> list[ChainEntry]:
    """Every numbered line through the full entry parser, uncached: the per-entry cost before the fast paths."""
    entries = []
    expected = 1
    scans = Scans.of(matcher)
    for line in text.split("\n"):
        hit = numbered(line, expected) if line[:1].isdigit() else None
        if hit is not None:
            parsed = parse_content(hit[1].strip(), matcher, None, scans)
            entries.append(ChainEntry(hit[0], hit[1].strip(), *parsed))
            expected = hit[0] + 1
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    matcher = ProductMatcher([("草莓", []), ("蓝莓", [])], units={"草莓": "盒"})
    matcher.warm_up()
    realistic, garbage, line = realistic_chain(), garbage_lines(), long_line()
    for text in (realistic, garbage, line):  # warm-up: regex compilation, the fast reader, the quantity memo
        parse_chain(text, matcher)

    fast = parse_chain(realistic, matcher).entries
    slow = slow_parse(realistic, matcher)
    assert fast == tuple(slow), "the fast paths changed a result"

    slow_ms = best_ms(lambda: slow_parse(realistic, matcher), matcher, max(1, args.repeat // 2))
    inputs = {
        "a_realistic": (realistic, matcher),
        "b_garbage": (garbage, matcher),
        "c_long_line": (line, matcher),
        "a_realistic_no_catalogue": (realistic, None),
        "run_letters_100k": ("1. " + "a" * 100_000, matcher),
        "run_fullwidth_digits_100k": ("1. " + "１" * 100_000, matcher),
        "run_numerals_100k": ("1. " + "一" * 100_000, matcher),
    }
    results: dict[str, dict[str, float]] = {}
    for name, (text, m) in inputs.items():
        ms = best_ms(lambda text=text, m=m: parse_chain(text, m), matcher, args.repeat)
        results[name] = {"ms": round(ms, 2), "ratio": round(ms / slow_ms, 3)}

    print(f"full slow-path parse of (a), uncached: {slow_ms:8.1f} ms")
    for name, r in results.items():
        flag = "" if r["ms"] <= TARGET_MS else f"  (over {TARGET_MS:.0f} ms)"
        print(f"{name:28s} {r['ms']:8.1f} ms   ratio {r['ratio']:.3f}{flag}")
    if args.json:
        print(json.dumps({"slow_ms": round(slow_ms, 2), "target_ms": TARGET_MS, "results": results}))


if __name__ == "__main__":
    main()
