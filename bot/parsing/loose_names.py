"""Loose names of one catalogue's products: plain head words, pinyin and English.

Neighbours outside the leader's own words ask for `蟹` (the catalogue says 大闸蟹), `米` (五常大米), `caomei`,
`how much is the strawberry`. These are weaker than a name: a head word points at a product only when the catalogue
holds exactly one product of that kind, and only where jieba reads it as a word of its own (`玉米`, `蛋糕`, `米粒` are
one word each, so their 米/蛋 point at nothing). All of it is derived from the catalogue at build time:

- head words from the ends of names and aliases (`produce_words.HEAD_WORDS`), a two-character end too when jieba's
  dictionary knows it as a word (`土鸡蛋` → 鸡蛋, `黄牛肉` → 牛肉; not `大闸蟹` → 闸蟹);
- tone-less pinyin of every name, alias and longer head word (pypinyin), matched on syllable boundaries of the
  Latin runs of a text, spaces or none (`caomei`, `cao mei`, `caomeihaiyouma`);
- English words (`produce_words.ENGLISH`) resolved through the same lookup, so they follow the catalogue.

Used by `ProductMatcher.find_all(loose=True)`, which only the question reader asks for: chain lines keep to names,
aliases and typos (`米粒妈妈 草莓2盒` must stay a label and a product).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from bot.parsing.produce_words import ENGLISH, HEAD_WORDS, NOT_THE_HEAD

__all__ = ["HEAD", "ENGLISH_WORD", "PINYIN", "LooseNames", "Loose"]

HEAD, PINYIN, ENGLISH_WORD = "head", "pinyin", "english"
Loose = tuple[int, int, str, str]  # start, end, product, kind

# Latin words with spaces between them; a comma too, which is what the question reader makes of a space.
_LATIN_RUN = re.compile(r"[a-z]+(?:[ ,'\-]+[a-z]+)*")
_LATIN_WORD = re.compile(r"[a-z]+")
_MAX_PHRASE = 3  # English phrases are at most three words (`salted duck egg`)


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every tone-less pinyin syllable pypinyin knows (about 420), read from its dictionary, not written here; less
    the interjections with no vowel (`n`, `m`, `hng`), which would let `adamin` read as a|da|mi|n."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    marked = {s for readings in pinyin_dict.values() for s in readings.split(",")}
    plain = {to_normal(s, v_to_u=False) for s in marked}
    voiced = {s for s in plain if any(vowel in s for vowel in "aeiouv")}
    return frozenset(voiced | {s.replace("v", "u") for s in voiced})


def _pinyin(word: str) -> str | None:
    """`大闸蟹` → `dazhaxie`; None for a word with anything but Chinese characters, or of one character (`xie` on its
    own is also 谢, `mi` is 米 and 密: too common to read as a product)."""
    if len(word) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
        return None
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word, v_to_u=False))


def _head_words(surface: str, known_word: Callable[[str], bool]) -> set[str]:
    """The plain words a name or alias is called by: its head character's words, and its last two characters when
    they are a dictionary word ending in a head; less what a different-food ending (`NOT_THE_HEAD`) rules out."""
    words: set[str] = set()
    if len(surface) >= 2 and surface[-1] in HEAD_WORDS:
        words.update(HEAD_WORDS[surface[-1]])
        if len(surface) >= 3 and known_word(surface[-2:]):
            words.add(surface[-2:])
    for ending, ruled_out in NOT_THE_HEAD.items():
        if surface.endswith(ending):
            words.difference_update(ruled_out)
    words.discard(surface)
    return words


class LooseNames:
    """The loose names of one catalogue. `surfaces`: each name and alias (folded) → its product; `known_word`: is a
    two-character string a word of jieba's own dictionary (before the catalogue was added to it)."""

    def __init__(self, surfaces: Mapping[str, str], known_word: Callable[[str], bool]) -> None:
        by_word: dict[str, set[str]] = {}
        for surface, product in surfaces.items():
            for word in _head_words(surface, known_word):
                by_word.setdefault(word, set()).add(product)
        # A head word that is itself a name or alias is the exact scan's; one shared by products names none of them.
        self._heads = {w: next(iter(ps)) for w, ps in by_word.items() if len(ps) == 1 and w not in surfaces}
        self._ambiguous = frozenset(w for w, ps in by_word.items() if len(ps) > 1 and w not in surfaces)
        self._surfaces = dict(surfaces)
        self.head_openers = frozenset(w[0] for w in self._heads)

        spelled: dict[str, set[str]] = {}
        for word, product in [*surfaces.items(), *self._heads.items()]:
            spelling = _pinyin(word)
            if spelling is not None:
                spelled.setdefault(spelling, set()).add(product)
        self._pinyin = {key: next(iter(ps)) for key, ps in spelled.items() if len(ps) == 1}
        self._longest_pinyin = max(map(len, self._pinyin), default=0)

        self._english: dict[str, str] = {}
        for phrase, chinese in ENGLISH.items():
            resolved = self._resolve(chinese)
            if resolved is not None:
                self._english[phrase] = resolved
        self._english_vocabulary = frozenset(w for phrase in ENGLISH for w in phrase.split())
        self._syllables = _syllables() if self._pinyin else frozenset()

    def _resolve(self, chinese: Sequence[str]) -> str | None:
        """The product the first of `chinese` the catalogue knows points at (None when that word is ambiguous)."""
        for word in chinese:
            if word in self._surfaces:
                return self._surfaces[word]
            if word in self._heads:
                return self._heads[word]
            if word in self._ambiguous:
                return None
        return None

    def __bool__(self) -> bool:
        return bool(self._heads or self._pinyin or self._english)

    # -- head words ------------------------------------------------------------------------------------------------
    def heads_in(self, text: str, words: Sequence[str]) -> list[Loose]:
        """The head words among `words` (jieba's words of `text`, in order), each a word of its own. A one-character
        head right after a digit is a unit (`1米7`), not the product."""
        found: list[Loose] = []
        pos = 0
        for word in words:
            start = text.find(word, pos)
            if start < 0:
                continue
            pos = start + len(word)
            product = self._heads.get(word)
            if product is None or (len(word) == 1 and start > 0 and text[start - 1].isdigit()):
                continue
            found.append((start, pos, product, HEAD))
        return found

    # -- Latin: English, then pinyin -------------------------------------------------------------------------------
    def latin_in(self, folded: str) -> list[Loose]:
        """English words and pinyin of names in the Latin runs of `folded` (lower case, as `fold` leaves it)."""
        found: list[Loose] = []
        for run in _LATIN_RUN.finditer(folded):
            words = [(m.start() + run.start(), m.end() + run.start()) for m in _LATIN_WORD.finditer(run.group())]
            rest: list[tuple[int, int]] = []
            i = 0
            while i < len(words):
                hit = self._english_at(folded, words, i)
                if hit is None:
                    rest.append(words[i])
                    i += 1
                    continue
                if rest:
                    found.extend(self._pinyin_in(folded, rest))
                    rest = []
                size, product = hit
                found.append((words[i][0], words[i + size - 1][1], product, ENGLISH_WORD))
                i += size
            if rest:
                found.extend(self._pinyin_in(folded, rest))
        return found

    def _english_at(self, folded: str, words: list[tuple[int, int]], i: int) -> tuple[int, str] | None:
        for size in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
            *head, last = (folded[a:b] for a, b in words[i : i + size])
            for singular in _singulars(last):
                if singular in self._english_vocabulary:
                    product = self._english.get(" ".join([*head, singular]))
                    if product is not None:
                        return size, product
        return None

    def _pinyin_in(self, folded: str, words: list[tuple[int, int]]) -> list[Loose]:
        """Names spelled in pinyin across `words` (one run of Latin words): a name's spelling must start and end on a
        syllable boundary, so `dami` is not read out of `adamin`."""
        if not self._pinyin:
            return []
        joined = ""
        where: list[int] = []  # index in `folded` of each letter of `joined`
        cuts: set[int] = set()
        for a, b in words:
            cuts.update(len(joined) + k for k in self._boundaries(folded[a:b]))
            joined += folded[a:b]
            where.extend(range(a, b))
        found: list[Loose] = []
        ordered = sorted(cuts)
        k = 0
        while k < len(ordered):
            start, best = ordered[k], None
            for end in ordered[k + 1 :]:
                if end - start > self._longest_pinyin:
                    break
                if joined[start:end] in self._pinyin:
                    best = end
            if best is None:
                k += 1
                continue
            found.append((where[start], where[best - 1] + 1, self._pinyin[joined[start:best]], PINYIN))
            k = ordered.index(best)
        return found

    def _boundaries(self, word: str) -> set[int]:
        """The positions of `word` where a syllable may end, in some reading of it as pinyin syllables; a word that is
        no pinyin at all (`strawberry`) has only its two ends."""
        n, syllables = len(word), self._syllables
        ahead = [False] * (n + 1)  # a syllable sequence reaches position i from the start
        ahead[0] = True
        for i in range(n):
            if ahead[i]:
                for j in range(i + 1, min(n, i + 6) + 1):
                    if word[i:j] in syllables:
                        ahead[j] = True
        if not ahead[n]:
            return {0, n}
        behind = [False] * (n + 1)  # from position i a syllable sequence reaches the end
        behind[n] = True
        for i in range(n - 1, -1, -1):
            behind[i] = any(behind[j] and word[i:j] in syllables for j in range(i + 1, min(n, i + 6) + 1))
        return {i for i in range(n + 1) if ahead[i] and behind[i]}


def _singulars(word: str) -> list[str]:
    """`word` and what it may be the plural of: cherries → cherry, tomatoes → tomato, peaches → peach, eggs → egg."""
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return forms
