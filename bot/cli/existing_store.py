"""The prologue of every command that reads the bot's existing store (`tuanbot rebuild`, `tuanbot sync`): opening a
database creates the schema, so a typo in --data-dir or --database would silently work on a new, empty store."""

from __future__ import annotations

import sys

from storage.db import missing_store

HINT = "check --data-dir, --database or the config's database:"


async def store_is_there(command: str, url: str, nothing: str) -> bool:
    """Whether `url` holds the bot's store; if not, `tuanbot COMMAND: why: NOTHING (hint)` on stderr."""
    why = await missing_store(url)
    if why is not None:
        print(f"tuanbot {command}: {why}: {nothing} ({HINT})", file=sys.stderr)
    return why is None
