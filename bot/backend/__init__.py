"""The leader's backend service (`tuanbot backend`): orders from the bot in, summaries and xlsx exports out."""

from bot.cli.backend import add_command

__all__ = ["add_command"]
