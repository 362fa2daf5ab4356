"""The bot's configuration: config.yaml validated into frozen pydantic models, with errors that name file and line."""

from bot.config.behaviour import BackendSync, BotSettings, ChainSettings, FaqEntry, Limits, WeChat
from bot.config.catalogue import Buy, BuyItem, Group, LadderTier, Pickup, Product
from bot.config.loader import CheckResult, ConfigError, Problem, check_config, load_config, parse_config_text
from bot.config.posts import Column, FlashSale, Nudges, QuietHours, Reminders, WeeklyTime
from bot.config.root import Config
from bot.config.values import cron_trigger, format_offset, parse_duration, parse_offset, parse_weekly

__all__ = [
    "BackendSync",
    "BotSettings",
    "Buy",
    "BuyItem",
    "ChainSettings",
    "CheckResult",
    "Column",
    "Config",
    "ConfigError",
    "FaqEntry",
    "FlashSale",
    "Group",
    "LadderTier",
    "Limits",
    "Nudges",
    "Pickup",
    "Problem",
    "Product",
    "QuietHours",
    "Reminders",
    "WeChat",
    "WeeklyTime",
    "check_config",
    "cron_trigger",
    "format_offset",
    "load_config",
    "parse_config_text",
    "parse_duration",
    "parse_offset",
    "parse_weekly",
]
