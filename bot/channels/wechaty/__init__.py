"""The WeChat channel: a python-wechaty client of a wechaty puppet-service gateway (`docs/wechat.md`).

Importing this package does not import wechaty; `WechatyChannel.run()` does, through `shims.load_wechaty()`.
"""

from bot.channels.wechaty.channel import ChannelEvents, WechatyChannel
from bot.channels.wechaty.connection import WechatySettings, parse_endpoint
from bot.channels.wechaty.errors import ChannelFatal

__all__ = ["ChannelEvents", "ChannelFatal", "WechatyChannel", "WechatySettings", "parse_endpoint"]
