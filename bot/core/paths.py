"""Where the bot writes: the one place the data directory is resolved (flag, environment, default)."""

from __future__ import annotations

import os
from pathlib import Path


def resolve_data_dir(cli_value: str | Path | None) -> Path:
    """`--data-dir`, else `TUANBOT_DATA`, else `./data`: everything the bot writes lives there."""
    raw = cli_value or os.environ.get("TUANBOT_DATA") or "data"
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
