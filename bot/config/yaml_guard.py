"""A first look at config YAML as a stream of events, before anything is built: hostile shapes are refused here.

Two shapes would otherwise take the loader down:
- **alias bombs** ("billion laughs"): a few lines of anchors and aliases that expand to billions of values. PyYAML
  composes them cheaply (an alias is a reference), but building plain data expands every alias, and memory runs out.
  The stream says how big each anchored node is, so the values an alias would add are counted without building
  anything; past `MAX_ALIAS_VALUES` the file is refused at the line of the alias that crossed the limit.
- **deep nesting** (`[[[[…` fifty thousand deep): the composer and the builder recurse (RecursionError), and the
  scanner slows down with the depth. The file is refused at the line where nesting passes `MAX_DEPTH`.

The event parser keeps its own stack (no recursion), and the look stops at the first problem, so the cost is
bounded by the file's size and these limits.
"""

from __future__ import annotations

import yaml

#: Values (scalars, mappings, sequences) aliases may add to a file. A real config repeats a few blocks with
#: `<<: *defaults`; a hundred thousand values is far past any of them.
MAX_ALIAS_VALUES = 100_000
#: Nesting depth of mappings and sequences. A real config is five or six deep.
MAX_DEPTH = 64


class Refused(Exception):
    """The YAML is refused before it is built; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def guard(text: str) -> None:
    """Raise `Refused` when `text` nests deeper than `MAX_DEPTH` or its aliases would add more than
    `MAX_ALIAS_VALUES` values; a YAML syntax error is raised as PyYAML raises it (the caller reports it)."""
    sizes: dict[str, int] = {}  # anchor → values its node holds, aliases expanded
    open_: list[tuple[str | None, int]] = []  # per open collection: its anchor and its size so far
    added = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                raise Refused(line, f"nested more than {MAX_DEPTH} levels deep; a config is a few levels deep")
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
