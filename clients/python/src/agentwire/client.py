"""The asyncio client: publish events, run helpers, and what users send."""

from __future__ import annotations

import asyncio
import os
from typing import Any, AsyncIterator, Literal, Mapping

from ._model import Ids, Inbound, Published, event
from ._pipeline import Pipeline, backoff_s
from ._runs import AgUiRun, Run
from ._transport import HttpTransport, SocketTransport, refusal
from .errors import AgentWireError, AuthError, BusyError, NetworkError, RefusedError, TimeoutError


class AsyncClient:
    """A producer's connection to AgentWire (docs/PROTOCOL.md, "Agent runtimes").

    ``transport="http"`` publishes with ``POST /v1/events`` (batches stop at their first refusal, so a run's order
    holds even when the server is saturated); ``"socket"`` over the producer socket (one frame per event,
    pipelined: lower latency; a transiently refused event is retried, and may then land after a later one that was
    accepted). Users' messages always come over the producer socket (:meth:`messages`).

    Every event carries an idempotency key (``id``; made here unless given), so retries — on network errors, 5xx,
    429 and the server's saturation answers, with exponential backoff and jitter — never deliver an event twice.
    ``publish`` waits while ``max_in_flight`` events are unanswered: memory stays bounded however slow the server.
    """

    def __init__(self, url: str = "http://127.0.0.1:8080", producer_key: str | None = None, *,
                 transport: Literal["http", "socket"] = "http", linger_ms: float = 5.0, max_batch_events: int = 500,
                 max_batch_bytes: int = 512 * 1024, max_in_flight: int = 10_000, max_attempts: int = 8,
                 timeout_s: float = 30.0, initial_backoff_s: float = 0.05, max_backoff_s: float = 5.0,
                 heartbeat_s: float = 20.0) -> None:
        key = producer_key or os.environ.get("AGENTWIRE_PRODUCER_KEY")
        if not key:
            raise ValueError("producer_key (or AGENTWIRE_PRODUCER_KEY) is required")
        if transport not in ("http", "socket"):
            raise ValueError(f"transport={transport!r} must be 'http' or 'socket'")
        if heartbeat_s <= 0:
            raise ValueError(f"heartbeat_s={heartbeat_s} must be above 0")
        self.url = url.rstrip("/")
        self._key = key
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s
        self._ids = Ids()
        self._http = HttpTransport(self.url, key, timeout_s)
        # Users' messages, each with the socket it came on: confirmed to it as the application takes the message.
        self._inbound: asyncio.Queue[tuple[Mapping[str, Any], Any]] | None = None
        self._socket = SocketTransport(self.url, key, timeout_s, self._take_inbound, initial_backoff_s,
                                       max_backoff_s, heartbeat_s)
        self._pipeline = Pipeline(self._socket if transport == "socket" else self._http,
                                  linger_s=linger_ms / 1000.0, max_batch_events=max_batch_events,
                                  max_batch_bytes=max_batch_bytes, max_in_flight=max_in_flight,
                                  max_attempts=max_attempts, timeout_s=timeout_s,
                                  initial_backoff_s=initial_backoff_s, max_backoff_s=max_backoff_s)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def unanswered(self) -> int:
        """Events published and not yet answered (never more than ``max_in_flight``)."""
        return self._pipeline.unanswered

    @property
    def stats(self) -> dict[str, int]:
        """Batches sent and events in them (retries included): how well publishes are being batched."""
        return {"batches_sent": self._pipeline.batches_sent, "events_sent": self._pipeline.events_sent}

    async def publish(self, type: str, data: Mapping[str, Any] | None = None, *, user: str | None = None,
                      room: str | None = None, broadcast: bool = False, run_id: str | None = None,
                      thread_id: str | None = None, id: str | None = None) -> Published:
        """Publishes one event to a user, a room or everyone, and returns its numbers once stored.

        :raises RefusedError: malformed, or a run rule (``run_not_started`` …): never retried.
        :raises AuthError: the producer key was refused.
        :raises BusyError: still saturated after the retries.
        :raises NetworkError: still unreachable after the retries.
        :raises TimeoutError: no answer within ``timeout_s`` (publish again with the same ``id`` to be sure).
        """
        return await self._pipeline.submit(event(user=user, room=room, broadcast=broadcast, type=type,
                                                 run_id=run_id, thread_id=thread_id, data=data,
                                                 id=id or self._ids.next()))

    async def publish_ag_ui(self, events: list[Mapping[str, Any]], *, user: str | None = None,
                            room: str | None = None, run_id: str | None = None,
                            id: str | None = None) -> Mapping[str, Any]:
        """Publishes native AG-UI events (``POST /v1/ag-ui/events``), checked whole by AG-UI's run rules; retried like
        :meth:`publish` under one batch key, so a retried batch is stored once. Returns the server's answer.

        :raises RefusedError: ``code == "ag_ui_invalid"`` and ``rule`` names the AG-UI rule broken.
        """
        if (user is None) == (room is None):
            raise ValueError("exactly one of user or room")
        await self._pipeline.flush()  # the events published before these go first
        body: dict[str, Any] = {"user": user} if user is not None else {"room": room}
        if run_id is not None:
            body["runId"] = run_id
        body["id"] = id or self._ids.next()
        body["events"] = [dict(e) for e in events]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        last: AgentWireError | None = None
        for attempt in range(self._max_attempts):
            answer, last, hint = await self._ag_ui_attempt(body)
            if answer is not None:
                return answer
            if loop.time() >= deadline:
                raise TimeoutError(f"native AG-UI batch {body['id']} not answered in time; last: {last}")
            await asyncio.sleep(min(backoff_s(attempt + 1, self._initial_backoff_s, self._max_backoff_s, hint),
                                    max(0.0, deadline - loop.time())))
        assert last is not None
        raise last

    async def _ag_ui_attempt(self, body: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None,
                                                                      AgentWireError | None, float | None]:
        """One try: the answer; or, when a retry can help, why and the server's hint; refusals are raised."""
        if self._pipeline.transport is self._socket:
            frame = await self._socket.send_ag_ui(body)
            if isinstance(frame, Exception):
                return None, frame if isinstance(frame, AgentWireError) else NetworkError(str(frame)), None
            if frame.get("type") == "ack":
                return frame, None, None
            error = frame.get("error") if isinstance(frame.get("error"), Mapping) else None
            if error is not None:  # stored in part or not at all by the sequencer: the batch's own answer
                status, code, message = 503, str(error.get("code")), str(error.get("message", ""))
            else:
                status, code, message = int(frame.get("status") or 0), str(frame.get("code")), str(frame.get("message"))
                if status == 422:
                    raise RefusedError("ag_ui_invalid", message, 422, code)
            hint: float | None = None
        else:
            try:
                status, hint, answer = await self._http.post("/v1/ag-ui/events", body)
            except NetworkError as ex:
                return None, ex, None
            if status == 202:
                return answer, None, None
            if status == 422 and answer.get("error") == "ag_ui_invalid":
                raise RefusedError("ag_ui_invalid", str(answer.get("message")), 422, str(answer.get("rule")))
            error = answer.get("error") if isinstance(answer.get("error"), Mapping) else {}
            code, message = str(error.get("code", f"http_{status}")), str(error.get("message", ""))
        error = refusal(status, code, message, hint)
        if not isinstance(error, BusyError):
            raise error
        return None, error, hint

    def run(self, *, user: str, thread_id: str | None = None, run_id: str | None = None,
            agent: str = "agent") -> Run:
        """``async with client.run(user=…, thread_id=…) as run:`` — started on entry, always ended on exit."""
        return Run(self, user=user, thread_id=thread_id, run_id=run_id, agent=agent)

    def ag_ui_run(self, *, user: str, thread_id: str, run_id: str | None = None) -> AgUiRun:
        """A run in native AG-UI events: a streamed answer, and interrupts (human in the loop)."""
        return AgUiRun(self, user=user, thread_id=thread_id, run_id=run_id)

    async def _take_inbound(self, frame: Mapping[str, Any], socket: Any) -> None:
        if self._inbound is None:
            self._inbound = asyncio.Queue(maxsize=1024)
        await self._inbound.put((frame, socket))

    async def connect(self) -> None:
        """Opens the producer socket now, so users' messages are routed to this runtime from here on (otherwise it
        opens with the first :meth:`messages` step). A socket opened by publishing alone takes no user's message
        (``?inbound=none``): the server routes them to runtimes that read them."""
        if self._inbound is None:
            self._inbound = asyncio.Queue(maxsize=1024)
        await self._socket.take_messages()

    async def messages(self, *, presence: bool = False) -> AsyncIterator[Inbound]:
        """What users send to this runtime — prompts (an AG-UI front end's whole ``RunAgentInput`` included),
        cancels, and (``presence=True``) who comes online — over the producer socket, reconnecting on its own.
        Taking them slowly slows the socket down (bounded here and on the server), never loses one. Each is
        confirmed to the server as it is yielded: one this process held when it died, or that was still queued when
        its connection broke, goes to a runtime again, with ``redelivered`` set."""
        await self.connect()
        assert self._inbound is not None
        while True:
            frame, socket = await self._inbound.get()
            if frame.get("type") == "presence" and not presence:
                continue
            tag = frame.get("tag")
            if isinstance(tag, int) and tag > 0 and not await self._socket.confirm(socket, tag):
                continue  # its connection ended first: the server sends it to a runtime again
            yield Inbound.of(frame)

    async def flush(self) -> None:
        """Waits until every event published so far is answered."""
        await self._pipeline.flush()

    async def close(self) -> None:
        """Sends what is queued (within each event's timeout), then closes the connections."""
        await self._pipeline.close()
        await self._socket.close()
        await self._http.close()


__all__ = ["AsyncClient", "AgentWireError", "AuthError", "BusyError", "NetworkError", "RefusedError", "TimeoutError"]
