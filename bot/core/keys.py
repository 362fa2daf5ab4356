"""Coalesce keys of the notices queued per (kind, buy or sale, group): written and read in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoticeKey:
    """`kind:ref:group` — one pending notice of a kind per buy (or sale) and group."""

    kind: str
    ref: str
    group: str

    def format(self) -> str:
        return f"{self.kind}:{self.ref}:{self.group}"

    @classmethod
    def parse(cls, text: str | None, kind: str | None = None) -> NoticeKey | None:
        """The key `text` holds (of `kind`, when given), or None when it is not one."""
        parts = (text or "").split(":", 2)
        if len(parts) != 3 or (kind is not None and parts[0] != kind):
            return None
        return cls(*parts)
