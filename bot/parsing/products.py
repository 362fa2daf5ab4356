"""Catalogue matcher: product names, aliases and typos in order text → canonical product names."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from bot.parsing.loose_names import Loose, LooseNames

if TYPE_CHECKING:  # pragma: no cover
    import jieba

__all__ = ["LOOSE_KINDS", "Match", "MatchKind", "ProductMatcher", "fold"]

_JIEBA_FREQ = 1_000_000  # well above any dictionary word, so a catalogue name is always one token
_MEMO_LIMIT = 50_000
_MAX_FUZZY_LEN = 12  # beyond this a text is a sentence, not a mistyped product name
_MAX_SEGMENT_LEN = 40

# Full-width ASCII → ASCII, ideographic space → space, A-Z → a-z; one character for one, so spans stay valid.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_FOLD.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
_FOLD.update({cp: cp - 0xFEE0 + 32 for cp in range(0xFF21, 0xFF3B)})  # full-width capitals straight to a-z
# What `fold` can turn a character into (printable ASCII and the space). A catalogue none of whose names holds one of
# these is found at the same places in a text as in its fold: see `ProductMatcher.find_all`.
_FOLD_RESULTS = frozenset(map(chr, _FOLD.values()))

# Characters people mix up in product names (same sound or look). A two-character name is short enough that any other
# one-letter difference is more likely a different product (苹果/芒果) than a typo, so only these pairs count there.
_CONFUSABLE_PAIRS = (
    "梅莓 霉莓 桔橘 萍苹 焦蕉 早枣 留榴 连莲 罗萝 卜葡 卜蔔 兰蓝 爪瓜 蒲葡 陶萄 桃萄 忙芒 历荔 立荔 油柚"
    " 澄橙 犁梨 枝芝 支枝 贵桂 宇芋 署薯 算蒜 匆葱 九韭 琴芹 波菠 偶藕 棕粽 旦蛋 乃奶 烙酪 姑菇 叔菽 茄加"
    " 西希 胡糊 番翻 杨羊 羊洋 莴窝 虾瞎 鱼渔 鱿尤 蟹谢 榛真 栗粟 杏性 柠宁 檬蒙 菜采 茶荼 提题 子仔"
)
_CONFUSABLE = frozenset(frozenset(pair) for pair in _CONFUSABLE_PAIRS.split() if len(pair) == 2 and pair[0] != pair[1])

logger = logging.getLogger(__name__)


def fold(text: str) -> str:
    """Case- and width-fold without changing the length (spans computed on the result apply to the original)."""
    return text.translate(_FOLD)


def _as_written(folded: set[str]) -> frozenset[str]:
    """The characters whose fold is in `folded`."""
    return frozenset(folded | {chr(cp) for cp, to in _FOLD.items() if chr(to) in folded})


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _two_char_typos(surface: str) -> set[str]:
    """`surface` (two characters, one of them Chinese) and every two-character string `_typo_distance` takes for a
    typo of it: one character swapped for a character it is confused with."""
    typos = {surface}
    for pair in _CONFUSABLE:
        for k in (0, 1):
            if surface[k] in pair:
                for other in pair - {surface[k]}:
                    typos.add(surface[:k] + other + surface[k + 1 :])
    return typos


class MatchKind(StrEnum):
    EXACT = "exact"
    ALIAS = "alias"
    FUZZY = "fuzzy"
    # Loose names (`find_all(loose=True)`, bot/parsing/loose_names.py): weaker than a name, see `Match.loose`.
    HEAD = "head"  # a plain head word that points at one product only (`蟹` for 大闸蟹)
    PINYIN = "pinyin"  # a name or alias spelled in pinyin (`caomei`)
    ENGLISH = "english"  # an English word (`strawberries`)


LOOSE_KINDS = frozenset({MatchKind.HEAD, MatchKind.PINYIN, MatchKind.ENGLISH})


@dataclass(frozen=True, slots=True)
class Match:
    """A product mention: canonical name, the text as written, how it matched, and where ([start, end) in the input)."""

    product: str
    surface: str
    kind: MatchKind
    start: int = 0
    end: int = 0
    unit: str | None = None

    @property
    def loose(self) -> bool:
        """Found by a loose name (head word, pinyin, English), not a name, alias or typo of one: a caller that acts
        on the product without asking back may want more than this."""
        return self.kind in LOOSE_KINDS


class ProductMatcher:
    """Matches order text against one catalogue (canonical name + aliases, optional unit per product).

    Exact names and aliases are found by a longest-match scan (no tokenizer needed, cheap per line); typos are
    found by edit distance on short CJK strings, with a per-matcher jieba tokenizer (the catalogue as its user
    dictionary) to cut a longer unknown phrase into words first. The tokenizer is built on first use only.
    """

    def __init__(
        self,
        products: Sequence[tuple[str, Sequence[str]]],
        *,
        units: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._cache_dir = cache_dir
        self._units: dict[str, str] = dict(units or {})
        self._names: list[str] = []
        self._surfaces: dict[str, tuple[str, MatchKind]] = {}
        for name, _aliases in products:
            name = name.strip()
            if not name:
                continue
            self._names.append(name)
            self._surfaces.setdefault(fold(name), (name, MatchKind.EXACT))
        for name, aliases in products:
            for alias in aliases:
                alias = alias.strip()
                if name.strip() and alias:
                    self._surfaces.setdefault(fold(alias), (name.strip(), MatchKind.ALIAS))
        # Leftmost-longest scan in one pass of the regex engine: at a position the alternatives are tried longest
        # first, so the first that matches is the longest name there (what the loop in `find_all` used to find).
        longest_first = sorted(self._surfaces, key=len, reverse=True)
        self._scan = re.compile("|".join(map(re.escape, longest_first))) if longest_first else None
        # Folding the text before the scan matters only when a name holds a character folding can produce (Latin
        # letters, digits, ASCII punctuation, the space). Otherwise the names (folded, so none holds a character
        # folding changes either) match exactly where they match in the text as written, and `find_all` skips
        # `fold`, which costs a dictionary look-up per character of every entry (most of its time on long text).
        self._scan_needs_fold = any(not _FOLD_RESULTS.isdisjoint(surface) for surface in self._surfaces)
        # A cheap test before jieba in `_fuzzy_in_words`. `_typo_distance` takes a string for a typo of a
        # two-character Chinese name only when it is the name or the name with one character swapped for one it is
        # confused with (all in `_typo_pairs`), and for a typo of any other name only when the two share a character
        # (`_typo_chars`). A phrase with no two characters in a row in the first set and no character in the second
        # holds no typo of a name, whatever words jieba would cut it into.
        pairs: set[str] = set()
        chars: set[str] = set()
        for surface in self._surfaces:
            if len(surface) == 2 and any(_is_cjk(ch) for ch in surface):
                pairs.update(_two_char_typos(surface))
            else:
                chars.update(surface)
        self._typo_pairs = frozenset(pairs)
        pair_starts = "".join(sorted(map(re.escape, {pair[0] for pair in pairs})))
        self._typo_pair_starts = re.compile(f"[{pair_starts}]") if pairs else None
        self._typo_chars = frozenset(chars)
        # `_typo_distance` takes no text whose length is more than its limit (2) from the name's, and for a Chinese
        # name of one or two characters only texts of its length: `fuzzy` answers other lengths without a look.
        lengths: set[int] = set()
        for surface in self._surfaces:
            short_cjk = len(surface) <= 2 and any(_is_cjk(ch) for ch in surface)
            lengths.update([len(surface)] if short_cjk else range(len(surface) - 2, len(surface) + 3))
        self._typo_lengths = frozenset(lengths)
        self._tokenizer: jieba.Tokenizer | None = None
        self._dictionary_words: frozenset[str] = frozenset()  # two-character name ends jieba knows (`_jieba`)
        self._loose: LooseNames | None = None
        self._loose_memo: dict[str, list[Loose]] = {}
        self._lock = threading.Lock()
        self._fuzzy_memo: dict[str, Match | None] = {}
        self._fuzzy_in_memo: dict[str, Match | None] = {}

    # -- catalogue -------------------------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names)

    def __bool__(self) -> bool:
        return bool(self._surfaces)

    def knows(self, product: str) -> bool:
        return product in self._names

    def unit_of(self, product: str) -> str | None:
        return self._units.get(product)

    def surface_products(self) -> dict[str, str]:
        """Every name and alias, case/width folded as `find_all` looks them up, → its canonical product (a copy)."""
        return {surface: product for surface, (product, _kind) in self._surfaces.items()}

    def opening_chars(self) -> frozenset[str]:
        """Every character a mention found by `find_all` can open with, as written in the text (not folded)."""
        return _as_written({surface[0] for surface in self._surfaces})

    def closing_chars(self) -> frozenset[str]:
        """Every character a mention found by `find_all` can close with, as written in the text (not folded)."""
        return _as_written({surface[-1] for surface in self._surfaces})

    def canonical(self, text: str) -> Match | None:
        """`text` is exactly a name or an alias (after case/width folding and trimming)."""
        stripped = text.strip()
        hit = self._surfaces.get(fold(stripped))
        if hit is None:
            return None
        product, kind = hit
        return Match(product, stripped, kind, 0, len(stripped), self._units.get(product))

    # -- matching --------------------------------------------------------------------------------------------------
    def match(self, text: str) -> Match | None:
        """The product `text` names: exactly, by alias, by the longest name inside it, or by a typo of a name."""
        if not self._surfaces:
            return None
        whole = self.canonical(text)
        if whole is not None:
            return whole
        mentions = self.find_all(text, fuzzy=False)
        if mentions:
            return max(mentions, key=lambda m: (m.end - m.start, -m.start))
        return self.fuzzy_in(text)

    def find_all(self, text: str, *, fuzzy: bool = True, loose: bool = False) -> list[Match]:
        """Non-overlapping product mentions in `text`, leftmost-longest, with their spans; typos only if `fuzzy`,
        loose names (head words, pinyin, English: `MatchKind.HEAD` …) only if `loose`. Chain parsing never asks for
        loose names (a label such as `米粒妈妈` or `小米` must not become a product); the question reader does."""
        if not self._surfaces or not text:
            return []
        if self._scan is None:
            return []
        found: list[Match] = []
        surfaces, units = self._surfaces, self._units
        for m in self._scan.finditer(fold(text) if self._scan_needs_fold else text):
            start, end = m.span()
            product, kind = surfaces[m.group()]
            found.append(Match(product, text[start:end], kind, start, end, units.get(product)))
        if loose:
            found.extend(self._loose_in(text, found))
            found.sort(key=lambda m: m.start)
        if fuzzy:
            found.extend(self._fuzzy_in_gaps(text, found))
            found.sort(key=lambda m: m.start)
        return found

    def fuzzy(self, text: str) -> Match | None:
        """A typo of a name or alias (`蓝梅` → 蓝莓, `桔子` → 橘子); the whole of `text` must be that typo."""
        stripped = text.strip()
        if not stripped or len(stripped) not in self._typo_lengths or len(stripped) > _MAX_FUZZY_LEN:
            return None  # also when there is no catalogue
        key = fold(stripped)
        if key in self._fuzzy_memo:
            hit = self._fuzzy_memo[key]
            return None if hit is None else Match(hit.product, stripped, hit.kind, 0, len(stripped), hit.unit)
        best: tuple[int, int, str] | None = None
        for surface, (product, _kind) in self._surfaces.items():
            distance = self._typo_distance(key, surface)
            if distance is None:
                continue
            rank = (distance, -len(surface), product)
            if best is None or rank < best:
                best = rank
        result = None
        if best is not None:
            product = best[2]
            result = Match(product, stripped, MatchKind.FUZZY, 0, len(stripped), self._units.get(product))
        if len(self._fuzzy_memo) >= _MEMO_LIMIT:
            self._fuzzy_memo.clear()
        self._fuzzy_memo[key] = result
        return result

    def fuzzy_in(self, text: str) -> Match | None:
        """The typo'd product inside a short unknown phrase (`新鲜蓝梅` → 蓝莓 at 2..4): the phrase, else its words."""
        whole = self.fuzzy(text)
        if whole is not None:
            return whole
        if not self._surfaces or len(text) > _MAX_SEGMENT_LEN:
            return None
        if text in self._fuzzy_in_memo:  # the same phrases recur; jieba is the costly part
            return self._fuzzy_in_memo[text]
        best = self._fuzzy_in_words(text)
        if len(self._fuzzy_in_memo) >= _MEMO_LIMIT:
            self._fuzzy_in_memo.clear()
        self._fuzzy_in_memo[text] = best
        return best

    def _may_hold_typo(self, text: str) -> bool:
        """False when no substring of `text` is a typo of a name (so no word jieba cuts from it is one either)."""
        folded = fold(text)
        if not self._typo_chars.isdisjoint(folded):
            return True
        pairs, starts = self._typo_pairs, self._typo_pair_starts
        if starts is None:
            return False
        # Only where a pair can start (one regex scan), not at every position.
        return any(folded[m.start() : m.start() + 2] in pairs for m in starts.finditer(folded, 0, len(folded) - 1))

    def _fuzzy_in_words(self, text: str) -> Match | None:
        if not self._may_hold_typo(text):
            return None  # no word of it can be a typo: spare the jieba call, most of what a typo search costs
        best: Match | None = None
        pos = 0
        for word in self.segment(text):
            start = text.find(word, pos)
            if start < 0:
                continue
            pos = start + len(word)
            if len(word) < 2 or word == text:
                continue
            hit = self.fuzzy(word)
            if hit is not None and (best is None or len(word) > best.end - best.start):
                best = Match(hit.product, word, hit.kind, start, start + len(word), hit.unit)
        return best

    def segment(self, text: str) -> list[str]:
        """jieba words of `text`, with the catalogue names and aliases as whole words."""
        if not text:
            return []
        words: list[str] = []
        pos = 0
        for token in self._jieba().lcut(fold(text)):
            if token.strip():
                words.append(text[pos : pos + len(token)])
            pos += len(token)
        return words

    # -- loose names -----------------------------------------------------------------------------------------------
    def _loose_in(self, text: str, found: list[Match]) -> list[Match]:
        """Loose names in `text` that overlap no name or alias already found."""
        hits = self._loose_memo.get(text)
        if hits is None:
            names = self._loose_names()
            folded = fold(text)
            hits = names.latin_in(folded) if any("a" <= ch <= "z" for ch in folded) else []
            if not names.head_openers.isdisjoint(folded):  # jieba only when a head word may be there
                hits += names.heads_in(text, self.segment(text))
            if len(self._loose_memo) >= _MEMO_LIMIT:
                self._loose_memo.clear()
            self._loose_memo[text] = hits
        taken = [(m.start, m.end) for m in found]
        extra: list[Match] = []
        for start, end, product, kind in hits:
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            extra.append(Match(product, text[start:end], MatchKind(kind), start, end, self._units.get(product)))
        return extra

    def _loose_names(self) -> LooseNames:
        """Built on first use (it needs jieba's dictionary and pypinyin's, about a second together)."""
        if self._loose is None:
            self._jieba()
            with self._lock:
                if self._loose is None:
                    known = self._dictionary_words
                    surfaces = {surface: product for surface, (product, _kind) in self._surfaces.items()}
                    self._loose = LooseNames(surfaces, known.__contains__)
        return self._loose

    # -- internals -------------------------------------------------------------------------------------------------
    def _typo_distance(self, candidate: str, surface: str) -> int | None:
        if candidate == surface:
            return 0
        shortest = min(len(candidate), len(surface))
        if shortest < 2:
            return None
        if not any(_is_cjk(ch) for ch in surface):
            if shortest < 5:  # short Latin codes (J, gt7, L) are menu codes, not typos
                return None
            limit = 1
        elif shortest == 2:
            if len(candidate) != len(surface):
                return None
            diffs = [(a, b) for a, b in zip(candidate, surface, strict=True) if a != b]
            if len(diffs) == 1 and frozenset(diffs[0]) in _CONFUSABLE:
                return 1
            return None
        else:
            limit = 1 if shortest <= 5 else 2
        distance = _edit_distance(candidate, surface, limit)
        return distance if distance <= limit else None

    def _fuzzy_in_gaps(self, text: str, found: list[Match]) -> list[Match]:
        covered = [False] * len(text)
        for m in found:
            for k in range(m.start, m.end):
                covered[k] = True
        extra: list[Match] = []
        i, n = 0, len(text)
        while i < n:
            if covered[i] or not _is_cjk(text[i]):
                i += 1
                continue
            j = i
            while j < n and not covered[j] and _is_cjk(text[j]):
                j += 1
            run = text[i:j]
            if 2 <= len(run) <= _MAX_SEGMENT_LEN:
                hit = self.fuzzy_in(run)
                if hit is not None:
                    extra.append(Match(hit.product, hit.surface, hit.kind, i + hit.start, i + hit.end, hit.unit))
            i = j
        return extra

    def _jieba(self) -> jieba.Tokenizer:
        if self._tokenizer is not None:
            return self._tokenizer
        with self._lock:
            if self._tokenizer is None:
                import jieba as jieba_module  # deferred: importing and loading jieba costs about a second

                # jieba announces its dictionary load on stderr through its own handler; operators read our log.
                jieba_module.setLogLevel(logging.WARNING)
                tokenizer = jieba_module.Tokenizer()
                if self._cache_dir is not None:
                    self._cache_dir.mkdir(parents=True, exist_ok=True)
                    tokenizer.tmp_dir = str(self._cache_dir)
                    tokenizer.cache_file = "jieba.cache"
                tokenizer.initialize()
                # Read before the catalogue joins the dictionary: which name ends are words of their own (loose names).
                ends = {surface[-2:] for surface in self._surfaces if len(surface) >= 3}
                self._dictionary_words = frozenset(w for w in ends if tokenizer.FREQ.get(w))
                for surface in self._surfaces:  # folded, like the text segment() hands to jieba
                    tokenizer.add_word(surface, freq=_JIEBA_FREQ)
                self._tokenizer = tokenizer
        return self._tokenizer

    def warm_up(self) -> None:
        """Build the tokenizer now (at start-up) rather than on the first typo."""
        if self._surfaces:
            self._jieba()
            self._loose_names()
