"""Operator logs: one JSON object per line in the data dir, a readable line on the console, phone numbers masked."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import structlog

LOG_FILE = "tuanbot.log.jsonl"
REHEARSAL_LOG_FILE = "rehearsal.log.jsonl"  # what `ask`, `chat`, `demo`, `parse` and `replay` log
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phones(text: str) -> str:
    """`13812345678` → `138****5678`: mainland mobile numbers never reach a log line whole."""
    return _PHONE.sub(r"\1****\2", text)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    return value


def _mask_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask(value)
    return event_dict


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    _mask_processor,
]


def setup_logging(
    data_dir: Path | None, *, console: TextIO | None = sys.stderr, level: str = "INFO", file: str = LOG_FILE
) -> None:
    """Route every structlog event to the JSON file in `data_dir` and, when given, a console stream. Rehearsals
    (`ask`, `chat`, `demo`, `parse`, `replay`) pass `file=REHEARSAL_LOG_FILE`: the operator's log of the live bot
    (`tuanbot logs`) must hold only what happened in the groups."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(data_dir / file, encoding="utf-8")
        file_handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
                ],
                foreign_pre_chain=_SHARED,
            )
        )
        root.addHandler(file_handler)
    if console is not None:
        console_handler = logging.StreamHandler(console)
        console_handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.dev.ConsoleRenderer(colors=False),
                ],
                foreign_pre_chain=_SHARED,
            )
        )
        root.addHandler(console_handler)
    # Libraries' chatter stays out of the operator's log unless it is a warning.
    for noisy in ("sqlalchemy", "alembic", "aiosqlite", "asyncio", "jieba", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str = "tuanbot") -> Any:
    return structlog.get_logger(name)


# --- reading the log back (`tuanbot logs`) -------------------------------------------------------------------------

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_SINCE = re.compile(r"^(\d+)\s*([smhd])$")


def parse_since(text: str) -> timedelta:
    m = _SINCE.match(text.strip())
    if not m:
        raise ValueError(f"--since takes a duration like 30s, 10m, 2h or 1d, not {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})


def matches(
    record: dict[str, Any],
    *,
    group: str | None = None,
    event: str | None = None,
    level: str | None = None,
    since: datetime | None = None,
) -> bool:
    if group is not None and record.get("group") != group:
        return False
    if event is not None and record.get("event") != event:
        return False
    if level is not None and _LEVELS.get(str(record.get("level", "info")), 20) < _LEVELS[level.lower()]:
        return False
    if since is not None:
        try:
            ts = datetime.fromisoformat(str(record.get("time", "")).replace("Z", "+00:00"))
        except ValueError:
            return False
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        if ts < since:
            return False
    return True


def read_records(path: Path, *, follow: bool = False, poll: float = 0.5) -> Iterator[dict[str, Any]]:
    """Every JSON record of the log; with `follow`, keep waiting for new ones. Lines that are not JSON are skipped."""
    with path.open(encoding="utf-8") as fh:
        while True:
            line = fh.readline()
            if not line:
                if not follow:
                    return
                time.sleep(poll)
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


def _local_time(value: Any) -> str:
    """A record's time in this machine's zone, with its offset (`2026-12-03 20:44:33+08:00`): a time without one
    is read as local by every operator, and the file keeps UTC."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value or "")
    if moment.tzinfo is None:
        return moment.isoformat(sep=" ", timespec="seconds")
    return moment.astimezone().isoformat(sep=" ", timespec="seconds")


def format_record(record: dict[str, Any]) -> str:
    head = [_local_time(record.get("time")), str(record.get("level", "")).upper()[:5]]
    head.append(str(record.get("event", "")))
    rest = {k: v for k, v in record.items() if k not in {"time", "level", "event", "logger"}}
    tail = " ".join(
        f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}" for k, v in rest.items()
    )
    return " ".join(head) + (" " + tail if tail else "")
