"""The publishing pipeline: events wait in order, go out in batches (by linger time and bytes), are retried on what
a retry can help with, and never more than ``max_in_flight`` are unanswered (``publish`` waits: bounded memory)."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from typing import Any, Protocol

from ._model import Published, size_of
from ._transport import Outcome
from .errors import AgentWireError, AuthError, NetworkError, TimeoutError


class Transport(Protocol):
    async def send(self, events: list[dict[str, Any]]) -> list[Outcome]: ...


def backoff_s(attempt: int, initial_s: float, max_s: float, hint_s: float | None = None) -> float:
    """Exponential backoff with full jitter; the server's Retry-After, when given, as the floor."""
    delay = random.uniform(0, min(max_s, initial_s * (2 ** attempt)))
    return max(delay, hint_s or 0.0)


class _Pending:
    __slots__ = ("event", "size", "future", "deadline", "queued_at", "attempts", "last_error")

    def __init__(self, event: dict[str, Any], future: asyncio.Future[Published], now: float, timeout_s: float) -> None:
        self.event = event
        self.size = size_of(event)
        self.future = future
        self.queued_at = now
        self.deadline = now + timeout_s
        self.attempts = 0
        self.last_error: AgentWireError | None = None


class Pipeline:
    def __init__(self, transport: Transport, *, linger_s: float, max_batch_events: int, max_batch_bytes: int,
                 max_in_flight: int, max_attempts: int, timeout_s: float, initial_backoff_s: float,
                 max_backoff_s: float) -> None:
        if max_batch_events < 1 or max_batch_bytes < 1 or max_in_flight < 1 or max_attempts < 1 or timeout_s <= 0:
            raise ValueError(f"max_batch_events={max_batch_events} max_batch_bytes={max_batch_bytes} "
                             f"max_in_flight={max_in_flight} max_attempts={max_attempts} timeout_s={timeout_s} "
                             "must all be > 0")
        self.transport = transport
        self._linger_s = linger_s
        self._max_events = max_batch_events
        self._max_bytes = max_batch_bytes
        self._max_in_flight = max_in_flight
        self._max_attempts = max_attempts
        self._timeout_s = timeout_s
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s
        self._slots: asyncio.Semaphore | None = None
        self._queue: deque[_Pending] = deque()
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._unanswered = 0
        self._closed = False
        #: Batches sent (each a POST, or a run of frames), and the events in them, retries included.
        self.batches_sent = 0
        self.events_sent = 0

    @property
    def unanswered(self) -> int:
        """Events published and not yet answered (at most ``max_in_flight``)."""
        return self._unanswered

    def _start(self) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_in_flight)
            self._wake = asyncio.Event()
            self._idle = asyncio.Event()
            self._idle.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def submit(self, event: dict[str, Any]) -> Published:
        if self._closed:
            raise AgentWireError("closed", "the client is closed")
        self._start()
        assert self._slots is not None and self._wake is not None and self._idle is not None
        await self._slots.acquire()  # backpressure: waits while max_in_flight events are unanswered
        loop = asyncio.get_running_loop()
        pending = _Pending(event, loop.create_future(), loop.time(), self._timeout_s)
        self._unanswered += 1
        self._idle.clear()
        pending.future.add_done_callback(self._answered)
        self._queue.append(pending)
        self._wake.set()
        # Shielded: a caller that stops waiting does not take its event back (it may be stored already).
        return await asyncio.shield(pending.future)

    def _answered(self, future: asyncio.Future[Published]) -> None:
        assert self._slots is not None and self._idle is not None
        self._unanswered -= 1
        self._slots.release()
        if self._unanswered == 0:
            self._idle.set()
        if not future.cancelled():
            future.exception()  # retrieved: an unawaited failure is not reported as never retrieved

    async def flush(self) -> None:
        """Waits until every event published so far is answered."""
        if self._idle is not None:
            await self._idle.wait()

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            assert self._wake is not None
            self._wake.set()
            await self._task

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            first = self._queue[0]
            linger = first.queued_at + self._linger_s - loop.time()
            if linger > 0 and not self._full() and not self._closed:
                await asyncio.sleep(linger)  # more publishes may join this batch
            await self._send(self._take())

    def _full(self) -> bool:
        total = 0
        for count, pending in enumerate(self._queue, 1):
            total += pending.size
            if count >= self._max_events or total >= self._max_bytes:
                return True
        return False

    def _take(self) -> list[_Pending]:
        batch = [self._queue.popleft()]
        total = batch[0].size
        while self._queue and len(batch) < self._max_events and total + self._queue[0].size <= self._max_bytes:
            total += self._queue[0].size
            batch.append(self._queue.popleft())
        return batch

    async def _send(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        todo = batch
        attempt = 0
        while todo:
            self.batches_sent += 1
            self.events_sent += len(todo)
            try:
                outcomes = await self.transport.send([p.event for p in todo])
            except AuthError as ex:
                outcomes = [Outcome(error=ex)] * len(todo)
            except AgentWireError as ex:
                # The outcome is unknown (the connection broke): all again, with the same ids.
                outcomes = [Outcome(error=ex, retry=True)] * len(todo)
            except (OSError, asyncio.TimeoutError) as ex:
                outcomes = [Outcome(error=NetworkError(f"{type(ex).__name__}: {ex}"), retry=True)] * len(todo)
            again: list[_Pending] = []
            hint: float | None = None
            failed_again = False
            for pending, outcome in zip(todo, outcomes):
                if pending.future.done():
                    continue
                if outcome.published is not None:
                    pending.future.set_result(outcome.published)
                elif not outcome.retry:
                    pending.future.set_exception(outcome.error or AgentWireError("refused", "refused"))
                else:
                    if outcome.error is not None:
                        failed_again = True
                        pending.attempts += 1
                        pending.last_error = outcome.error
                        if outcome.retry_after:
                            hint = max(hint or 0.0, outcome.retry_after)
                    if loop.time() >= pending.deadline:
                        pending.future.set_exception(TimeoutError(
                            f"no answer within the timeout; last: {pending.last_error or 'not sent yet'}"))
                    elif pending.attempts >= self._max_attempts:
                        pending.future.set_exception(pending.last_error or NetworkError("retries exhausted"))
                    else:
                        again.append(pending)
            todo = again
            if todo and failed_again:
                attempt += 1
                wait = backoff_s(attempt, self._initial_backoff_s, self._max_backoff_s, hint)
                await asyncio.sleep(min(wait, max(0.0, min(p.deadline for p in todo) - loop.time())))
