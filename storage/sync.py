"""The sync worker: sends the outbox's order changes to the leader's backend, exactly once in effect.

Each row is POSTed to `{url}/api/orders` (a payment's, `kind: payment`, to `{url}/api/payments`) with its
`Idempotency-Key` (`order:{id}:v{version}`, `payment:{id}:v{version}`), so a change sent twice — a retry, or a
worker killed after the backend stored it but before the row was marked — is stored once.
Answers that say "not now" (connection errors, 5xx, and 401/403/404/408/409/425/429: a rotated token, a proxy, a
backend mid-deploy) are retried a few times at once with exponential backoff (tenacity), then the row waits
`next_attempt_at` (growing, capped) and the worker moves on. Only a rejection of the order itself (400, 422) marks
the row failed, logged for the operator. Rows persist, so a restart resumes where the last run stopped. The worker
is its own task with its own sessions: message handling never waits for it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any, Literal

import aiohttp
from sqlalchemy import select, update
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.clock import Clock
from bot.logs import get_logger
from storage.db import Database
from storage.models import SyncOutbox

MAX_DELAY = timedelta(minutes=5)
#: answers that say "not now" rather than "never": a rotated token, a proxy or a backend mid-deploy. The change is
#: kept and tried again; only a rejection of the order itself (400, 422) is final.
RETRY_STATUSES = frozenset({401, 403, 404, 408, 409, 425, 429})


class Retryable(Exception):
    """The backend could not take it now (connection, 5xx, 429): try again."""


class SyncWorker:
    def __init__(
        self,
        db: Database,
        url: str,
        token: str,
        clock: Clock,
        *,
        batch: int = 50,
        attempts: int = 3,
        first_wait: float = 0.2,
        timeout: float = 10.0,
    ) -> None:
        self.db = db
        self.endpoint = url.rstrip("/") + "/api/orders"
        self.payments = url.rstrip("/") + "/api/payments"  # a payment's change (`kind: payment`, `已收`)
        self.token = token
        self.clock = clock
        self.batch = batch
        self.attempts = attempts
        self.first_wait = first_wait
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.log = get_logger("tuanbot.sync")
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SyncWorker:
        self._http = aiohttp.ClientSession(timeout=self.timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def run(self, stop: asyncio.Event, *, idle: float = 1.0) -> None:
        """Send as changes come, until `stop` is set."""
        while not stop.is_set():
            try:
                sent = await self.send_pending()
            except Exception:
                self.log.exception("sync_failed")
                sent = 0
            if sent == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle)
                except TimeoutError:
                    pass

    async def send_pending(self, *, due_only: bool = True) -> int:
        """Send one batch of due rows (or, for an operator's `tuanbot sync`, of every pending row) in the order they
        were written; returns how many the backend took."""
        query = select(SyncOutbox).where(SyncOutbox.status == "pending").order_by(SyncOutbox.id).limit(self.batch)
        if due_only:
            query = query.where(SyncOutbox.next_attempt_at <= self.clock.now())
        async with self.db.sessions() as session:
            rows = list(await session.scalars(query))
        done = 0
        for row in rows:
            outcome = await self._send(row)
            if outcome == "later":  # the backend is down or refuses us: the rows after this one wait with it
                break
            done += outcome == "sent"
        return done

    async def _send(self, row: SyncOutbox) -> Literal["sent", "rejected", "later"]:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential(multiplier=self.first_wait, max=5),
                retry=retry_if_exception_type(Retryable),
                reraise=True,
            ):
                with attempt:
                    status, body = await self._post(row)
        except Retryable as exc:
            tries = row.attempts + 1
            delay = min(MAX_DELAY, timedelta(seconds=2**tries))
            await self._mark(row.id, attempts=tries, next_attempt_at=self.clock.now() + delay, last_error=str(exc))
            self.log.warning("sync_retry_later", key=row.idempotency_key, attempts=tries, error=str(exc)[:200])
            return "later"
        if 200 <= status < 300:
            await self._mark(row.id, status="sent", sent_at=self.clock.now(), attempts=row.attempts + 1)
            self.log.info("order_synced", key=row.idempotency_key, status=status)
            return "sent"
        await self._mark(row.id, status="failed", attempts=row.attempts + 1, last_error=f"{status}: {body[:500]}")
        self.log.error("sync_rejected", key=row.idempotency_key, status=status, body=body[:200])
        return "rejected"

    async def _post(self, row: SyncOutbox) -> tuple[int, str]:
        assert self._http is not None, "use `async with SyncWorker(...)`"
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": row.idempotency_key}
        try:
            endpoint = self.payments if row.payload.get("kind") == "payment" else self.endpoint
            async with self._http.post(endpoint, data=_json(row.payload), headers=headers) as resp:
                body = await resp.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise Retryable(f"{type(exc).__name__}: {exc}") from exc
        if resp.status >= 500 or resp.status in RETRY_STATUSES:
            if resp.status in (401, 403):
                self.log.error("sync_unauthorized", status=resp.status, hint="check TUANBOT_BACKEND_TOKEN")
            raise Retryable(f"HTTP {resp.status}: {body[:200]}")
        return resp.status, body

    async def _mark(self, row_id: int, **values: Any) -> None:
        async with self.db.transaction() as session:
            await session.execute(update(SyncOutbox).where(SyncOutbox.id == row_id).values(**values))


def _json(payload: dict[str, Any]) -> aiohttp.BytesPayload:
    data = json.dumps(payload, ensure_ascii=False).encode()
    return aiohttp.BytesPayload(data, content_type="application/json")
