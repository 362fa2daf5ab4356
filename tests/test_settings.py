"""The non-secret environment, read in one place: empty means unset, the command line wins over it."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings, read_settings


def test_read_settings_takes_the_bots_variables_and_treats_empty_as_unset() -> None:
    env = {
        "TUANBOT_CONFIG": "/etc/tuanbot.yaml",
        "TUANBOT_DATA": "",
        "TUANBOT_DATABASE_URL": "postgresql://u@h/db",
        "TUANBOT_REDIS_URL": "redis://h:6379/0",
        "WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:8788",
        "TUANBOT_BACKEND_TOKEN": "secret",
    }
    assert read_settings(env) == Settings(
        config="/etc/tuanbot.yaml",
        data=None,
        database_url="postgresql://u@h/db",
        redis_url="redis://h:6379/0",
        wechaty_endpoint="127.0.0.1:8788",
    )
    assert "secret" not in repr(read_settings(env))


def test_config_path_prefers_the_command_line_then_the_environment() -> None:
    assert read_settings({}).config_path(None) == Path("config.yaml")
    assert read_settings({"TUANBOT_CONFIG": "env.yaml"}).config_path(None) == Path("env.yaml")
    assert read_settings({"TUANBOT_CONFIG": "env.yaml"}).config_path("cli.yaml") == Path("cli.yaml")
