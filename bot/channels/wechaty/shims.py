"""Every work-around python-wechaty 0.10.7 needs, in one place, each saying what breaks without it.

Nothing imports `wechaty` except through `load_wechaty()`: the shims must run before the import, and the import must
know where wechaty may write its side files. Version pins that belong here (see pyproject.toml): `wechaty==0.10.7`
(the shims below are written against it), `pyee<12` and `urllib3<2` (later releases removed names it imports).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

_loaded: ModuleType | None = None

#: python-wechaty's loggers each get their own stderr handler and `propagate=False`; these are the ones it creates
#: at import time. We route them into the operator log instead (phones masked there, one format).
_LIBRARY_LOGGERS = (
    "Accessory",
    "Config",
    "Contact",
    "ContactSelf",
    "Favorite",
    "FriendShip",
    "Image",
    "Message",
    "MiniProgram",
    "Room",
    "RoomInvitation",
    "Tag",
    "UrlLink",
    "Wechaty",
    "wechaty",
    "wechaty.plugin",
    "PuppetService",
    "WechatyPuppetServiceConfig",
    "WechatyPuppet",
    "WechatyPuppet.Schemas.Event",
    "WechatyPuppet.Schema.Base",
    "FileBox",
)


def load_wechaty(side_dir: Path) -> ModuleType:
    """Import python-wechaty once, shimmed, with its side files (`.wechaty/`) in `side_dir`. Returns the module."""
    global _loaded
    if _loaded is not None:
        return _loaded
    side_dir.mkdir(parents=True, exist_ok=True)
    # wechaty reads CACHE_DIR at import time (a class attribute default builds `{cache_dir}/job.db`) and creates the
    # directory then: without this, every run leaves `.wechaty/` in whatever directory it was started from.
    os.environ["CACHE_DIR"] = str(side_dir)
    # Its loggers default to INFO with one line per message (texts and phone numbers included) on stderr.
    os.environ.setdefault("WECHATY_LOG", "warn")

    # PuppetOptions is a dataclass used as a mutable default of WechatyOptions; Python 3.11's dataclasses reject an
    # unhashable default ("mutable default ... is not allowed"), so `import wechaty` fails without a __hash__.
    from wechaty_puppet.schemas.puppet import PuppetOptions

    PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment,method-assign]

    with warnings.catch_warnings():
        # telnetlib (deprecated in 3.11) and pyee's moved AsyncIOEventEmitter warn on import; harmless here, and
        # under `filterwarnings = error` they would turn the import into a failure.
        warnings.simplefilter("ignore", DeprecationWarning)
        import wechaty
        import wechaty.plugin
        import wechaty_puppet_service
        import wechaty_puppet_service.puppet

    _plugins_start_once(wechaty.plugin)
    _async_endpoint_probe(wechaty_puppet_service.puppet)
    _route_loggers()
    _loaded = wechaty
    return wechaty


def _plugins_start_once(plugin_module: Any) -> None:
    """Every (re)connect replays `login`, and wechaty's login handler starts its plugin manager each time: the second
    start raises "Scheduler is already running" (APScheduler) and the handler dies silently, so `on_login` never runs
    and the bot does not know it is back. The start also probes local port 5000 with a blocking 3 s telnet and
    refuses to go on when anything listens there. We use no plugins: start them once, and only if there are any."""
    manager_cls = plugin_module.WechatyPluginManager
    if getattr(manager_cls, "_tuanbot_once", False):
        return
    original = manager_cls.start

    async def start_once(self: Any) -> None:
        if getattr(self, "_tuanbot_started", False):
            return
        self._tuanbot_started = True
        if any(True for _ in self.plugins()):
            await original(self)

    manager_cls.start = start_once
    manager_cls._tuanbot_once = True


def _async_endpoint_probe(puppet_module: Any) -> None:
    """`PuppetService._init_puppet` first "pings" the endpoint with a blocking telnet (3 s timeout) inside the event
    loop: a gateway that is unreachable freezes every room worker and the sender for 3 s per reconnect attempt. The
    channel probes the endpoint itself with an asyncio connection before each attempt, so the blocking one goes."""
    puppet_module.ping_endpoint = lambda _endpoint: True


def _route_loggers() -> None:
    # WECHATY_LOG is python-wechaty's own variable (it reads it itself, after `load_wechaty` defaulted it): read
    # here to give its loggers the same level, so it stays out of bot/settings.py, which holds the bot's variables.
    level_name = os.environ.get("WECHATY_LOG", "warn").lower()
    level = {"silly": logging.DEBUG, "verbose": logging.DEBUG, "info": logging.INFO, "error": logging.ERROR}.get(
        level_name, logging.WARNING
    )
    if level_name == "silent":
        level = logging.CRITICAL + 1
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(level)
    # PuppetService warns on every connect that the token and endpoint came both from its options and from the
    # environment, and writes the token itself into that line: keep it to errors.
    logging.getLogger("PuppetService").setLevel(max(level, logging.ERROR))


def forget_bound_objects(wechaty: ModuleType) -> None:
    """python-wechaty pools Contact, Room and Tag objects process-wide, each bound to the puppet of the client that
    first loaded it. After a reconnect (a new client) they would still talk to the closed connection ("puppet_stub
    should not be none"), and their payloads (topics, names) would never refresh. Forget them on every connect."""
    from wechaty.user.contact import Contact
    from wechaty.user.room import Room
    from wechaty.user.tag import Tag

    for cls in (Contact, Room, Tag):
        cls._pool.clear()


async def invitation_topic_and_inviter(client: Any, invitation_id: str) -> tuple[str, str]:
    """(topic, inviter id) of a room invitation. `PuppetService.room_invitation_payload` builds its payload from the
    gRPC answer's camelCase dict and fails ("unexpected keyword argument 'inviterId'"), so read the answer itself."""
    response = await client.puppet.puppet_stub.room_invitation_payload(id=invitation_id)
    return response.topic or "", response.inviter_id or ""


async def accept_invitation(client: Any, invitation_id: str) -> None:
    """`RoomInvitation.load()` builds the unbound base class, whose accept() fails with "puppet not set"; the class
    bound to this client (`client.RoomInvitation`) has the puppet."""
    await client.RoomInvitation(invitation_id).accept()
