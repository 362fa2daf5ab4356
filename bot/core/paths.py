"""Where the bot writes: the one place the data directory is resolved (flag, environment, default)."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings, read_settings


def resolve_data_dir(cli_value: str | Path | None, settings: Settings | None = None) -> Path:
    """`--data-dir`, else `TUANBOT_DATA` (from `settings`, read now when not given), else `./data`: everything the
    bot writes lives there."""
    raw = cli_value or (settings or read_settings()).data or "data"
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
