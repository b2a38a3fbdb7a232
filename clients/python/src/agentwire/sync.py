"""A synchronous facade over :class:`AsyncClient`, for runtimes without an event loop: the client runs on a loop in
a daemon thread of its own, and each call waits for its answer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, Iterator, Mapping, TypeVar

from ._model import Inbound, Published
from .client import AsyncClient

T = TypeVar("T")


class Client:
    """``Client(url, producer_key, **options)`` — the options of :class:`AsyncClient`."""

    def __init__(self, url: str = "http://127.0.0.1:8080", producer_key: str | None = None, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="agentwire-client", daemon=True)
        self._thread.start()
        self._client: AsyncClient = self._call(self._make(url, producer_key, options))

    @staticmethod
    async def _make(url: str, producer_key: str | None, options: Mapping[str, Any]) -> AsyncClient:
        return AsyncClient(url, producer_key, **options)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def publish(self, type: str, data: Mapping[str, Any] | None = None, **addressing: Any) -> Published:
        """As :meth:`AsyncClient.publish`; waits for the answer."""
        return self._call(self._client.publish(type, data, **addressing))

    def publish_ag_ui(self, events: list[Mapping[str, Any]], **addressing: Any) -> Mapping[str, Any]:
        """As :meth:`AsyncClient.publish_ag_ui`."""
        return self._call(self._client.publish_ag_ui(events, **addressing))

    def messages(self, *, presence: bool = False) -> Iterator[Inbound]:
        """As :meth:`AsyncClient.messages`, as a blocking iterator."""
        iterator = self._client.messages(presence=presence)
        while True:
            yield self._call(iterator.__anext__())

    def run(self, *, user: str, thread_id: str | None = None, run_id: str | None = None,
            agent: str = "agent") -> "SyncRun":
        """``with client.run(user=…) as run:`` — as :meth:`AsyncClient.run`."""
        return SyncRun(self, self._client.run(user=user, thread_id=thread_id, run_id=run_id, agent=agent))

    def flush(self) -> None:
        self._call(self._client.flush())

    def close(self) -> None:
        if self._loop.is_running():
            self._call(self._client.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


class SyncRun:
    """A :class:`Run` driven from synchronous code."""

    def __init__(self, client: Client, run: Any) -> None:
        self._client = client
        self._run = run
        self.id = run.id

    def __enter__(self) -> "SyncRun":
        self._client._call(self._run.__aenter__())
        return self

    def thinking(self, text: str) -> Published:
        return self._client._call(self._run.thinking(text))

    def tool_started(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        """Starts a tool call; end it with :meth:`tool_done`."""
        call = self._run.tool(tool, args)
        self._client._call(call.__aenter__())
        return call

    def tool_done(self, call: Any, result: Any = None, error: BaseException | None = None) -> None:
        call.result = result
        self._client._call(call.__aexit__(type(error) if error else None, error, None))

    def complete(self, result: Any) -> None:
        self._run.complete(result)

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        self._client._call(self._run.__aexit__(kind, error, tb))
        return False
