"""The WeChat channel: a python-wechaty client of a wechaty puppet-service gateway (`docs/wechat.md`).

Importing this package does not import wechaty; `WechatyChannel.run()` does, through `shims.load_wechaty()`.
"""

from bot.channels.wechaty.channel import (
    ChannelEvents,
    ChannelFatal,
    WechatyChannel,
    WechatySettings,
    parse_endpoint,
)

__all__ = ["ChannelEvents", "ChannelFatal", "WechatyChannel", "WechatySettings", "parse_endpoint"]
