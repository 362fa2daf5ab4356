"""How the WeChat channel reads a failure: a rejected token is fatal, everything else is a connection to retry."""

from __future__ import annotations


class ChannelFatal(Exception):
    """The channel cannot work with this configuration (e.g. the gateway rejects the token): retrying is pointless."""


def describe(exc: BaseException) -> str:
    """One line for the log: the exception's type, and its message when it has one."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify(exc: BaseException | None) -> BaseException:
    """A rejected token is fatal; everything else is a connection problem to retry."""
    if exc is None:
        return ConnectionError("stream ended")
    # grpclib comes with the optional wechaty client: imported only once a connection has failed.
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    if isinstance(exc, GRPCError) and exc.status == Status.UNAUTHENTICATED:
        return ChannelFatal(
            "the wechaty gateway rejected the token (UNAUTHENTICATED): check WECHATY_PUPPET_SERVICE_TOKEN "
            "(or wechat.token in the config) against the gateway's token"
        )
    return exc
