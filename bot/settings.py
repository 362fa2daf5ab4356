"""The bot's non-secret environment variables, read in this one place: where its config, data and services are.

`read_settings()` runs once when a command starts; what it returns is passed on. An empty variable counts as unset.
Secrets (TUANBOT_BACKEND_TOKEN, WECHATY_PUPPET_SERVICE_TOKEN) are not read here but where they are used: that way
they never sit in an object that is passed around, printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG = "config.yaml"


@dataclass(frozen=True)
class Settings:
    """What the environment says, before the command line and the config file have their say."""

    config: str | None = None  # TUANBOT_CONFIG: the config file, when --config is not given
    data: str | None = None  # TUANBOT_DATA: the data directory, when --data-dir is not given
    database_url: str | None = None  # TUANBOT_DATABASE_URL: wins over the config's `database:`
    redis_url: str | None = None  # TUANBOT_REDIS_URL: wins over the config's `redis:`
    wechaty_endpoint: str | None = None  # WECHATY_PUPPET_SERVICE_ENDPOINT: wins over the config's wechat.endpoint
    #: TUANBOT_KILL_AT: fault tests only — the process SIGKILLs itself at this point (`bot.core.faults`)
    kill_at: str | None = None

    def config_path(self, cli_value: str | Path | None = None) -> Path:
        """`--config`, else TUANBOT_CONFIG, else ./config.yaml."""
        return Path(cli_value or self.config or DEFAULT_CONFIG)


def read_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from `environ` (default: this process's environment)."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        return env.get(name) or None

    return Settings(
        config=get("TUANBOT_CONFIG"),
        data=get("TUANBOT_DATA"),
        database_url=get("TUANBOT_DATABASE_URL"),
        redis_url=get("TUANBOT_REDIS_URL"),
        wechaty_endpoint=get("WECHATY_PUPPET_SERVICE_ENDPOINT"),
        kill_at=get("TUANBOT_KILL_AT"),
    )
