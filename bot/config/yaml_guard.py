"""A first look at config YAML as a stream of events, before anything is built: hostile shapes are refused here.

Two shapes would otherwise take the loader down:
- **alias bombs** ("billion laughs"): a few lines of anchors and aliases that expand to billions of values. PyYAML
  composes them cheaply (an alias is a reference), but building plain data expands every alias, and memory runs out.
  The stream says how big each anchored node is, so the values an alias would add are counted without building
  anything; past `MAX_ALIAS_VALUES` the file is refused at the line of the alias that crossed the limit.
- **deep nesting** (`[[[[…` fifty thousand deep): the composer and the builder recurse (RecursionError), and the
  scanner slows down with the depth. The file is refused at the line where nesting passes `MAX_DEPTH`.

The look uses LibYAML's event parser when PyYAML has it (the pure one slows down with flow nesting: 1.8 s for the
50,000-deep probe, and it reads far ahead); it keeps its own stack (no recursion) and stops at the first problem,
so the cost is bounded by the file's size and these limits. A syntax error found here is left to the loader's own
parse to report, so the messages do not depend on which parser looked first.
"""

from __future__ import annotations

from typing import Any

import yaml

#: Values (scalars, mappings, sequences) aliases may add to a file. A real config repeats a few blocks with
#: `<<: *defaults`; a hundred thousand values is far past any of them.
MAX_ALIAS_VALUES = 100_000
#: Nesting depth of mappings and sequences. A real config is five or six deep.
MAX_DEPTH = 64
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Refused(Exception):
    """The YAML is refused before it is built; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def guard(text: str) -> None:
    """Raise `Refused` when `text` nests deeper than `MAX_DEPTH` or its aliases would add more than
    `MAX_ALIAS_VALUES` values. Invalid YAML is not this look's business: the loader's parse says where."""
    try:
        _look(text, _Loader)
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem) and exc.problem_mark is not None:  # LibYAML's own limit (1000)
            raise Refused(exc.problem_mark.line + 1, _too_deep()) from None
        _pure_look(text)
    except yaml.YAMLError:
        _pure_look(text)


def _pure_look(text: str) -> None:
    """LibYAML refused what PyYAML may take (they differ at the edges): look again with the parser that builds."""
    if _Loader is yaml.SafeLoader:
        return
    try:
        _look(text, yaml.SafeLoader)
    except yaml.YAMLError:
        pass


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep; a config is a few levels deep"


def _look(text: str, loader: type[Any]) -> None:
    sizes: dict[str, int] = {}  # anchor → values its node holds, aliases expanded
    open_: list[tuple[str | None, int]] = []  # per open collection: its anchor and its size so far
    added = 0
    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                raise Refused(line, _too_deep())
            open_.append((event.anchor, 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_.pop()
            if anchor is not None:
                sizes[anchor] = size
            _add(open_, size)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            _add(open_, 1)
        elif isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor or "", 1)  # an alias to an open (recursive) anchor: the builder says so
            added += size
            if added > MAX_ALIAS_VALUES:
                raise Refused(
                    line,
                    f"aliases (*{event.anchor}) would expand the file past {MAX_ALIAS_VALUES:,} values "
                    "(a YAML alias bomb); write the values out or use fewer aliases",
                )
            _add(open_, size)


def _add(open_: list[tuple[str | None, int]], size: int) -> None:
    if open_:
        anchor, total = open_[-1]
        open_[-1] = (anchor, total + size)
