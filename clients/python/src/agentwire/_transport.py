"""The two ways to the server: HTTP (``POST /v1/events``, batches that stop at their first refusal, so order holds) and
the producer socket (``GET /v1/producer``: one frame per event, pipelined, and users' messages coming back)."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import websockets

from ._model import Published, Seq
from .errors import AgentWireError, AuthError, BusyError, NetworkError, RefusedError

#: Answers a retry can help with: the server was saturated, stopping, or could not say whether it stored the event.
RETRYABLE = {"ring_full", "rate_limited", "closed", "unavailable", "outcome_unknown", "too_many_runs",
             "run_state_changed", "agent_busy", "shutting_down"}


@dataclass
class Outcome:
    """How one event of a batch fared: stored (``published``), refused for good (``error``), or to be sent again
    (``retry``: not attempted, or refused for a reason a retry can help with, after ``retry_after`` seconds)."""

    published: Published | None = None
    error: AgentWireError | None = None
    retry: bool = False
    retry_after: float | None = None


def refusal(status: int, code: str, message: str, retry_after: float | None = None) -> AgentWireError:
    """The one reading of a refusal, whatever carried it (an HTTP answer, a socket's nack, a native AG-UI batch's):
    ``AuthError`` and ``RefusedError`` are final; ``BusyError`` — saturated, stopping, or not known to have stored
    it — is worth a retry."""
    if status == 401:
        return AuthError(code, message or "the producer key was refused", 401)
    if code in RETRYABLE or status == 429 or status >= 500:
        return BusyError(code, message, status, retry_after)
    return RefusedError(code, message, status)


def _outcome_of(error: AgentWireError, retry_after: float | None = None) -> Outcome:
    return (Outcome(error=error, retry=True, retry_after=retry_after) if isinstance(error, BusyError)
            else Outcome(error=error))


def _published(event_id: str, result: Mapping[str, Any]) -> Published:
    seqs = tuple(Seq(s["user"], int(s["epoch"]), int(s["seq"])) for s in result.get("seqs") or ())
    return Published(event_id, str(result.get("status")), seqs)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def outcomes(events: list[Mapping[str, Any]], status: int, body: Mapping[str, Any],
             retry_after: float | None) -> list[Outcome]:
    """Reads ``POST /v1/events``' answer into one outcome per event (docs/PROTOCOL.md, "Answers")."""
    error = body.get("error") if isinstance(body.get("error"), Mapping) else {}
    code = str(error.get("code", f"http_{status}"))
    message = str(error.get("message", ""))
    results = body.get("results")
    if isinstance(results, list) and len(results) == len(events):
        out = []
        for event, result in zip(events, results):
            name = str(result.get("status"))
            if name in ("accepted", "duplicate"):
                out.append(Outcome(published=_published(event["id"], result)))
            elif name == "not_attempted":
                out.append(Outcome(retry=True))
            else:
                out.append(_outcome_of(refusal(status, name, message, retry_after), retry_after))
        return out
    if status in (400, 413):
        # Validated whole: nothing was published. The message names the event at fault; the others go again.
        at = re.match(r"events\[(\d+)\]", message)
        if at and int(at.group(1)) < len(events):
            bad = int(at.group(1))
            return [Outcome(error=RefusedError(code, message, status)) if i == bad else Outcome(retry=True)
                    for i in range(len(events))]
        return [Outcome(error=RefusedError(code, message, status))] * len(events)
    return [_outcome_of(refusal(status, code, message or f"unexpected HTTP {status}", retry_after), retry_after)
            for _ in events]


class HttpTransport:
    """``POST /v1/events`` on one kept-alive connection, from a worker thread (the standard library's HTTP client
    blocks; the event loop never does)."""

    def __init__(self, base_url: str, producer_key: str, timeout_s: float) -> None:
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        self._headers = {"Authorization": f"Bearer {producer_key}", "Content-Type": "application/json"}
        self._timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentwire-http")
        self._connection: http.client.HTTPConnection | None = None

    def _post(self, path: str, body: bytes) -> tuple[int, str | None, bytes]:
        if self._connection is None:
            self._connection = (http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout_s,
                                                            context=ssl.create_default_context())
                                if self._https else
                                http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s))
        try:
            self._connection.request("POST", path, body=body, headers=self._headers)
            response = self._connection.getresponse()
            return response.status, response.getheader("Retry-After"), response.read()
        except (OSError, http.client.HTTPException) as ex:
            # Cut, refused, timed out, or a kept-alive connection the server had closed: the outcome is unknown.
            # The pipeline sends the batch again (same ids: stored once) on a new connection.
            self._connection.close()
            self._connection = None
            raise NetworkError(f"{type(ex).__name__}: {ex}") from ex

    async def post(self, path: str, payload: Any) -> tuple[int, float | None, dict[str, Any]]:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        status, retry_after, raw = await asyncio.get_running_loop().run_in_executor(self._pool, self._post, path, body)
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {}
        return status, _retry_after(retry_after), answer if isinstance(answer, dict) else {}

    async def send(self, events: list[dict[str, Any]]) -> list[Outcome]:
        status, retry_after, answer = await self.post("/v1/events", events)
        return outcomes(events, status, answer, retry_after)

    async def close(self) -> None:
        def shut() -> None:
            if self._connection is not None:
                self._connection.close()
        await asyncio.get_running_loop().run_in_executor(self._pool, shut)
        self._pool.shutdown(wait=False)


class SocketTransport:
    """The producer socket: events as frames with a ``ref``, answered in order with ``ack`` / ``nack``; users'
    messages (``user_message``, ``cancel``, ``presence``) handed to ``on_inbound`` with the socket they came on, to
    :meth:`confirm` once taken. Reconnects on its own; what was sent and not answered when a connection broke is
    reported as to be sent again (same ids: never twice).

    A ping every ``heartbeat_s`` finds a connection that died without a word (a NAT that forgot it): one that answers
    nothing for a whole interval is opened again. websockets' own keepalive is off, because it cannot tell such a
    connection from one whose reads are held back while ``on_inbound`` is behind (its pong is then not read), and
    would close that one, losing what it held."""

    def __init__(self, base_url: str, producer_key: str, timeout_s: float,
                 on_inbound: Callable[[Mapping[str, Any], Any], Any], initial_backoff_s: float = 0.1,
                 max_backoff_s: float = 5.0, heartbeat_s: float = 20.0) -> None:
        parts = urlsplit(base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        self._url = f"{scheme}://{parts.netloc}/v1/producer"
        self._key = producer_key
        self._timeout_s = timeout_s
        self._on_inbound = on_inbound
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s
        self._heartbeat_s = heartbeat_s
        self._socket: Any = None
        self._beat: asyncio.Task[None] | None = None
        # When the open socket was last heard from (any frame, or a pong), its last ping, and whether its reads are
        # held back because on_inbound is behind (then no pong can be read, and none is missed).
        self._heard = 0.0
        self._ping_sent = 0.0
        self._holding = False
        self._connecting: asyncio.Lock | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Future[Mapping[str, Any]]] = {}
        self._refs = 0
        self._closed = False
        # Whether users' messages are taken (messages() or connect() was called), and whether the open socket was
        # opened so: without it the socket says ?inbound=none, and the server routes it no user's message.
        self._takes_messages = False
        self._socket_takes = False

    async def take_messages(self) -> None:
        """Users' messages come to this runtime from now on: a socket opened to publish only is replaced (what it
        had not answered is reported as to be sent again, same ids)."""
        self._takes_messages = True
        if self._socket is not None and not self._socket_takes:
            self._socket.transport.abort()  # the reader ends, and _lost connects again
            self._lost(self._socket)
        await self._connect()

    async def _connect(self) -> Any:
        if self._connecting is None:
            self._connecting = asyncio.Lock()  # made inside the running loop
        async with self._connecting:
            if self._socket is not None:
                return self._socket
            delay = self._initial_backoff_s
            # At most the timeout: past it the pipeline's retries (and each event's deadline) take over.
            deadline = asyncio.get_running_loop().time() + self._timeout_s
            while True:
                if self._closed:
                    raise NetworkError("the client is closed")
                if asyncio.get_running_loop().time() >= deadline:
                    raise NetworkError(f"the producer socket did not connect in {self._timeout_s} s")
                takes = self._takes_messages
                try:
                    socket = await _open(self._url + ("?confirm=true" if takes else "?inbound=none"),
                                         {"Authorization": f"Bearer {self._key}"}, self._timeout_s)
                except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as ex:
                    if _http_status(ex) == 401:
                        raise AuthError("unauthorized", "the producer key was refused", 401) from ex
                else:
                    self._socket = socket
                    self._socket_takes = takes
                    self._reader = asyncio.get_running_loop().create_task(self._read(socket))
                    try:
                        # The server routes users' messages to a producer socket before it reads the socket's first
                        # frame: once the first ping is answered, this runtime takes them.
                        await asyncio.wait_for(await socket.ping(), self._timeout_s)
                        self._heard = self._ping_sent = asyncio.get_running_loop().time()
                        self._beat = asyncio.get_running_loop().create_task(self._heartbeat(socket))
                        return socket
                    except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException):
                        await socket.close()
                await asyncio.sleep(delay)
                delay = min(self._max_backoff_s, delay * 2)

    async def _heartbeat(self, socket: Any) -> None:
        """Pings the open socket; gives it up when nothing arrived in the whole interval since the last ping."""
        loop = asyncio.get_running_loop()
        while not self._closed:
            await asyncio.sleep(self._heartbeat_s)
            if self._socket is not socket:
                return
            if self._holding:
                continue
            if self._heard < self._ping_sent:
                socket.transport.abort()  # the reader ends, and _lost connects again
                return
            self._ping_sent = loop.time()
            try:
                pong = await socket.ping()
            except (websockets.exceptions.ConnectionClosed, OSError):
                return
            pong.add_done_callback(lambda done: None if done.cancelled() or done.exception() else self._hear())

    def _hear(self) -> None:
        self._heard = asyncio.get_running_loop().time()

    async def _read(self, socket: Any) -> None:
        try:
            async for raw in socket:
                self._hear()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind in ("ack", "nack"):
                    waiter = self._waiting.pop(str(frame.get("ref")), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(frame)
                else:
                    # Awaited: a runtime that does not take its messages stops reading, and the server then routes
                    # users' messages to another runtime, or tells the user agent_busy (bounded both sides).
                    self._holding = True
                    try:
                        await self._on_inbound(frame, socket)
                    finally:
                        self._holding = False
                        self._hear()
        except (websockets.exceptions.ConnectionClosed, OSError, ValueError):
            pass
        finally:
            self._lost(socket)

    async def confirm(self, socket: Any, tag: int) -> bool:
        """Confirms the user's message of ``tag`` (and every one before it), taken by the application now. False when
        the socket it came on ended first: the server then sends it to a runtime again (marked ``redelivered``), so
        it is not handed to the application here."""
        if socket is not self._socket:
            return False
        try:
            await socket.send(f'{{"taken":{tag}}}')
            return True
        except (websockets.exceptions.ConnectionClosed, OSError):
            return False

    def _lost(self, socket: Any) -> None:
        if self._socket is socket:
            self._socket = None
        waiting, self._waiting = self._waiting, {}
        for waiter in waiting.values():
            if not waiter.done():
                waiter.set_exception(NetworkError("the producer socket closed before the server answered"))
        if not self._closed:
            # Keep receiving users' messages: connect again in the background.
            asyncio.get_running_loop().create_task(self._reconnect_quietly())

    async def _reconnect_quietly(self) -> None:
        """Connects again in the background, as long as it takes, for users' messages to keep coming."""
        while not self._closed:
            try:
                await self._connect()
                return
            except AuthError:
                return
            except AgentWireError:
                await asyncio.sleep(self._initial_backoff_s)

    async def _exchange(self, frames: list[dict[str, Any]]) -> list[Mapping[str, Any] | Exception]:
        socket = await self._connect()
        loop = asyncio.get_running_loop()
        waiters = []
        for frame in frames:
            self._refs += 1
            ref = f"p{self._refs}"
            waiter: asyncio.Future[Mapping[str, Any]] = loop.create_future()
            self._waiting[ref] = waiter
            waiters.append(waiter)
            try:
                await socket.send(json.dumps({"ref": ref, **frame}, separators=(",", ":"), ensure_ascii=False))
            except (websockets.exceptions.ConnectionClosed, OSError) as ex:
                self._waiting.pop(ref, None)
                waiter.set_exception(NetworkError(f"{type(ex).__name__}: {ex}"))
                break
        answers: list[Mapping[str, Any] | Exception] = []
        deadline = loop.time() + self._timeout_s  # for the whole run of frames, not per frame
        for waiter in waiters:
            try:
                answers.append(await asyncio.wait_for(asyncio.shield(waiter), max(0.0, deadline - loop.time())))
            except asyncio.TimeoutError:
                answers.append(NetworkError("no answer in time"))
            except AgentWireError as ex:
                answers.append(ex)
        answers.extend(NetworkError("not sent") for _ in range(len(frames) - len(answers)))
        return answers

    async def send(self, events: list[dict[str, Any]]) -> list[Outcome]:
        out = []
        for event, answer in zip(events, await self._exchange(events)):
            if isinstance(answer, Exception):
                out.append(Outcome(error=answer if isinstance(answer, AgentWireError) else NetworkError(str(answer)),
                                   retry=True))
            elif answer.get("type") == "ack":
                out.append(Outcome(published=_published(event["id"], answer)))
            else:
                out.append(_nack(answer))
        return out

    async def send_ag_ui(self, body: Mapping[str, Any]) -> Mapping[str, Any] | Exception:
        return (await self._exchange([{"ag_ui": dict(body)}]))[0]

    async def close(self) -> None:
        self._closed = True
        if self._beat is not None:
            self._beat.cancel()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._reader.cancel()


def _nack(answer: Mapping[str, Any]) -> Outcome:
    status = int(answer.get("status") or 0)
    return _outcome_of(refusal(status, str(answer.get("code") or f"http_{status}"), str(answer.get("message") or "")))


def _http_status(ex: Exception) -> int | None:
    """The HTTP status a refused WebSocket upgrade was answered with, across websockets' versions."""
    status = getattr(ex, "status_code", None)
    if status is None:
        status = getattr(getattr(ex, "response", None), "status_code", None)
    return int(status) if status is not None else None


async def _open(url: str, headers: Mapping[str, str], timeout_s: float) -> Any:
    """websockets' client, across its versions: 10–13 take ``extra_headers``, 14 and later ``additional_headers``."""
    try:
        return await asyncio.wait_for(websockets.connect(url, additional_headers=dict(headers), max_size=None,
                                                         ping_interval=None), timeout_s)
    except TypeError:
        return await asyncio.wait_for(websockets.connect(url, extra_headers=dict(headers), max_size=None,
                                                         ping_interval=None), timeout_s)
