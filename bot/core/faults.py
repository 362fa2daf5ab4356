"""Fault injection for the kill tests: a process started with `TUANBOT_KILL_AT=<point>` SIGKILLs itself when it
reaches that point, so a test can kill a real bot at a moment no outside timing can hit reliably.

Points: `stored` (a message is in the journal, not handled yet), `said` (a message reached the channel, its row is
not marked sent yet). Unset (always, outside tests), `crash_point` is one comparison.
"""

from __future__ import annotations

import os
import signal

STORED, SAID = "stored", "said"


def crash_point(point: str, armed: str | None) -> None:
    if armed == point:
        os.kill(os.getpid(), signal.SIGKILL)
