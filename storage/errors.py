"""What a store outage is: the one place that tells "the database is not there (or busy) now" from any other error.

An outage passes: the same work succeeds once the store is back, so the caller keeps the message and retries it.
Any other error (an IntegrityError, a DataError, a programming error) comes back the same on every retry, so it
belongs to the code that raised it: retrying it would block its room's queue forever.

An outage is: a connection that was lost, refused or closed (SQLAlchemy invalidated it; the driver's connection
errors; a network OSError on the way to the server, since a handler does no network I/O of its own), or a database
too busy to take the write now (SQLite's "database is locked"; PostgreSQL's lock timeout, deadlock or serialization
failure, each rolled back), or one that cannot be opened or written at all (SQLite's I/O error, a full disk).
"""

from __future__ import annotations

import socket

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, NotSupportedError, ProgrammingError

#: SQLite result codes (the primary code, `sqlite_errorcode & 0xFF`): busy, locked, I/O error, full, cannot open
_SQLITE_OUTAGE = {5, 6, 10, 13, 14}
#: what the driver says for a lock or a closed connection, when its error carries no code (an older driver, a test)
_WORDS = ("database is locked", "database table is locked", "database schema is locked", "connection is closed")
#: PostgreSQL SQLSTATE: class 08 is a connection exception; the others are a server going down, out of connections
#: or disk, and a transaction that lost a race for a lock (rolled back, succeeds when retried)
_PG_OUTAGE_STATES = {"57P01", "57P02", "57P03", "53100", "53300", "55P03", "40P01", "40001"}
#: errors about the statement or the data: the same on every retry, whatever the driver's error says
_NOT_OUTAGES = (IntegrityError, DataError, ProgrammingError, NotSupportedError)


def is_outage(exc: BaseException) -> bool:
    """True when `exc` means the store is unreachable or busy right now; False for any other error."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:  # SQLAlchemy saw the connection go (lost, reset, closed under it)
            return True
        if isinstance(exc, _NOT_OUTAGES):
            return False
    for err in _causes(exc):
        if _network_error(err):
            return True
        code = getattr(err, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _SQLITE_OUTAGE:
            return True
        state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
        if isinstance(state, str) and (state.startswith("08") or state in _PG_OUTAGE_STATES):
            return True
        if isinstance(err, InterfaceError) and "closed" in str(err.orig).lower():
            return True
        # the driver's own words, on the driver's error only: SQLAlchemy's message quotes the statement's parameters
        if err is not exc and any(words in str(err).lower() for words in _WORDS):
            return True
    return False


def _network_error(err: BaseException) -> bool:
    """Refused, reset, timed out, unresolvable, or asyncpg's "every address failed" (a plain OSError); not a file
    error (FileNotFoundError, PermissionError): those are some handler's own."""
    return isinstance(err, ConnectionError | TimeoutError | socket.gaierror) or type(err) is OSError


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc`, the driver's error SQLAlchemy wrapped (`orig`), and what each was raised from, outermost first.
    Only explicit causes: an error raised while another was being handled (`__context__`) is not the same error."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 10:
        err = todo.pop(0)
        if err is None or any(err is s for s in seen):
            continue
        seen.append(err)
        todo += [getattr(err, "orig", None) if isinstance(err, DBAPIError) else None, err.__cause__]
    return seen
