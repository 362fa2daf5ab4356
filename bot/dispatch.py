"""From an `Inbound` event to handlers: middlewares, stored dedupe by message id, one error path.

Order of work for one message: ignore the bot's own → serve only configured groups → store it (a message id seen
and handled before is dropped here, also after a restart) → log it → route it → mark it handled.
The message log is written by group commit (`storage.journal`): a burst shares its commits.

Routing: the handlers form one ordered list (`bot.app.default_handlers`); each handler's `wants` is its filter, and
the first whose filter matches handles the message: nobody else sees it, so no handler re-checks another's rules.
A handler that raises is logged with the message id, the message is marked handled and its room moves on; no later
route gets the message instead (a question answer to a 接龙 the order handler failed on would be a wrong reply).
A store outage (`storage.errors`: a lost connection, a locked database) leaves the message unmarked and raises
`StoreUnavailable`, so the caller retries it when the store is back; any other database error (an IntegrityError)
is the handler's own, like any exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.leaders import listed
from bot.events import Inbound, Kind
from bot.logs import get_logger
from bot.parsing.commands import ASKED, CommandText, read_command
from storage.errors import is_outage

if TYPE_CHECKING:
    from bot.config import Group
    from bot.core.services import Services


class StoreUnavailable(Exception):
    """The database could not take a write; the message stays unhandled and is retried."""


@dataclass
class Context:
    """What a handler gets: the event, its group, and the bot's services (passed in, never imported globals)."""

    event: Inbound
    group: Group
    group_id: int
    services: Services
    log: Any
    is_leader: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    # A leader's one-to-one message to the bot: `group` is then the first group they lead, and only handlers that
    # say `serves_private = True` see it; their replies go back to the same conversation (`event.room_id`).
    private: bool = False

    @cached_property
    def command(self) -> CommandText | None:
        """The message read as a leader command (`bot.parsing.commands`, one table for every command handler);
        None when it is no text. A member's bare `截单` or `库存` (`ASKED`) is no command: it may be a question, the
        questions route's. A leader's, or one addressed to the bot (`@小团 截单`), or one with an argument, or any
        other command word, is a command: a member's is then refused, and logged."""
        event = self.event
        if event.kind != Kind.TEXT:
            return None
        bot = self.services.config.bot.name
        read = read_command(event.text, bot, mentioned=bool({bot, self.services.self_id} & set(event.mentions)))
        if read.verb in ASKED and not (self.is_leader or self.private or read.addressed or read.arg):
            return CommandText(read.addressed, read.body, near=read.verb)
        return read

    def command_run(self, command: str, **fields: Any) -> None:
        """Log a leader command with the wxid that ran it (every command path says it once, before it acts)."""
        self._command("command_run", command, fields)

    def command_refused(self, command: str, reason: str = "not_a_leader", **fields: Any) -> None:
        """Log a command refused to its sender (not a leader, or a member wearing a leader's name)."""
        self._command("command_refused", command, {"reason": reason, **fields})

    def _command(self, event: str, command: str, fields: dict[str, Any]) -> None:
        group = None if self.private else self.group.name  # a private command: `private=True` is bound already
        self.log.info(event, command=command, member_id=self.event.sender_id, group=group, **fields)

    @property
    def reply_group(self) -> str | None:
        """The group a reply is counted against by the send limits: none for a private conversation."""
        return None if self.private else self.group.name


class Handler(Protocol):
    name: str

    def wants(self, ctx: Context) -> bool:
        """The route's filter, cheap and pure: is this message this handler's? The first handler that says yes
        is the only one to handle it."""
        ...

    async def handle(self, ctx: Context) -> None: ...


class Dispatcher:
    def __init__(self, services: Services, handlers: Sequence[Handler]) -> None:
        self.services = services
        self.handlers = list(handlers)
        self.log = get_logger("tuanbot.dispatch")

    async def feed(self, event: Inbound) -> str:
        """Handle one event. Returns what happened: handled | duplicate | self | unserved | failed."""
        if event.is_self or event.sender_id == self.services.self_id:
            return "self"  # a bot that reads its own messages answers itself forever
        if event.private:
            return await self._feed_private(event)
        group = await self.services.groups.resolve(event.room_id, event.room_topic)
        if group is None:
            self.log.debug("message_ignored", reason="unserved_room", room=event.room_id, msg_id=event.msg_id)
            return "unserved"
        if not await self._record(event):
            self.log.info("message_duplicate", group=group.name, member=event.sender_name, msg_id=event.msg_id)
            return "duplicate"
        try:
            return await self._handle(event, group)
        except BaseException:
            self.services.journal.release(event.msg_id)  # unmarked: its retry (or redelivery) may take it again
            raise

    async def _feed_private(self, event: Inbound) -> str:
        """A one-to-one message: a leader's is handled in the context of the first group they lead; anyone
        else's is left alone (the bot serves groups; a member's private chat is not its business)."""
        led = [g for g in self.services.config.groups if listed(g, event)]
        if not led:
            why = "private_not_a_leader"
            self.log.info("message_ignored", reason=why, member=event.sender_name, msg_id=event.msg_id)
            return "unserved"
        if not await self._record(event):
            self.log.info("message_duplicate", member=event.sender_name, msg_id=event.msg_id, private=True)
            return "duplicate"
        try:
            return await self._handle(event, led[0])
        except BaseException:
            self.services.journal.release(event.msg_id)
            raise

    async def _handle(self, event: Inbound, group: Group) -> str:
        log = self.log.bind(group=group.name, member=event.sender_name, msg_id=event.msg_id)
        if event.private:
            log = self.log.bind(member=event.sender_name, member_id=event.sender_id, msg_id=event.msg_id, private=True)
        log.info("message_received", kind=str(event.kind), text=event.text[:200] if event.kind != Kind.OTHER else "")
        ctx = Context(
            event=event,
            group=group,
            group_id=self.services.groups.id_of(group.name),
            services=self.services,
            log=log,
            is_leader=listed(group, event),
            private=event.private,
        )
        handler = self._route(ctx)
        if handler is not None:
            try:
                await handler.handle(ctx)
            except Exception as exc:
                if is_outage(exc):
                    log.error("handler_store_error", handler=handler.name, error=repr(exc))
                    raise StoreUnavailable(str(exc)) from exc
                log.exception("handler_failed", handler=handler.name)
        await self._mark_handled(event)
        return "handled"

    def _route(self, ctx: Context) -> Handler | None:
        """The first handler whose filter takes the message (a filter that raises is logged and passes it on)."""
        for handler in self.handlers:
            if ctx.private and not getattr(handler, "serves_private", False):
                continue
            try:
                if handler.wants(ctx):
                    ctx.log.debug("message_routed", handler=handler.name)
                    return handler
            except Exception:
                ctx.log.exception("handler_failed", handler=handler.name, stage="filter")
        return None

    async def _record(self, event: Inbound) -> bool:
        """Store the message first; False for a replay (or a second delivery of one being handled)."""
        try:
            return await self.services.journal.record(event, self.services.clock.now())
        except Exception as exc:
            if is_outage(exc):
                raise StoreUnavailable(str(exc)) from exc
            raise

    async def _mark_handled(self, event: Inbound) -> None:
        try:
            await self.services.journal.mark_handled(event.msg_id, self.services.clock.now())
        except Exception as exc:
            if is_outage(exc):
                raise StoreUnavailable(str(exc)) from exc
            raise


