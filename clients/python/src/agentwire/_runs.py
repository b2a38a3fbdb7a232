"""A run, always ended: ``agent_started`` on entry and ``agent_completed`` on exit — success, the error that
escaped, or cancelled — with helpers for thinking, tool calls and AG-UI interrupts."""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import TYPE_CHECKING, Any, Mapping

from ._model import Published

if TYPE_CHECKING:
    from .client import AsyncClient

_run_ids = itertools.count(1)
_RUN_PREFIX = "run-" + os.urandom(4).hex()


def new_run_id() -> str:
    return f"{_RUN_PREFIX}-{next(_run_ids)}"


class ToolCall:
    """``tool_executing`` on entry, ``tool_completed`` on exit: with ``result`` (set it inside the block), or with the
    error that escaped (then re-raised: the run decides what a failed tool means)."""

    def __init__(self, run: "Run", tool: str, args: Mapping[str, Any] | None, call_id: str) -> None:
        self._run = run
        self.tool = tool
        self.args = dict(args or {})
        self.id = call_id
        self.result: Any = None

    async def __aenter__(self) -> "ToolCall":
        await self._run.publish("tool_executing", {"tool_call_id": self.id, "tool": self.tool, "args": self.args})
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        if error is None:
            await self._run.publish("tool_completed", {"tool_call_id": self.id, "result": self.result})
        else:
            await asyncio.shield(self._run.publish("tool_completed", {
                "tool_call_id": self.id, "error": f"{type(error).__name__}: {error}" if str(error) else
                type(error).__name__}))
        return False


class Run:
    """One run of an agent for a user (``async with client.run(user=…, thread_id=…) as run``)."""

    def __init__(self, client: "AsyncClient", *, user: str, thread_id: str | None, run_id: str | None,
                 agent: str) -> None:
        self._client = client
        self.user = user
        self.thread_id = thread_id
        self.id = run_id or new_run_id()
        self.agent = agent
        self.result: Any = None
        self._calls = itertools.count(1)
        self._streamed = False

    async def publish(self, type: str, data: Mapping[str, Any]) -> Published:
        return await self._client.publish(type, data, user=self.user, run_id=self.id, thread_id=self.thread_id)

    async def __aenter__(self) -> "Run":
        await self.publish("agent_started", {"agent": self.agent})
        return self

    async def thinking(self, text: str) -> Published:
        """A delta of the agent's working (AG-UI: reasoning)."""
        return await self.publish("agent_thinking", {"text": text})

    async def answer(self, text: str) -> Published:
        """A delta of the answer, streamed as the model writes it (token by token). The completion then says
        ``streamed: true`` (and still carries the whole answer, when :meth:`complete` gave it), so front ends show
        it once."""
        self._streamed = True
        return await self.publish("agent_answer", {"text": text})

    def tool(self, tool: str, args: Mapping[str, Any] | None = None, *, call_id: str | None = None) -> ToolCall:
        """``async with run.tool("forecast", {"city": "Oslo"}) as call: call.result = …``. Calls may overlap."""
        return ToolCall(self, tool, args, call_id or f"{self.id}-call-{next(self._calls)}")

    def complete(self, result: Any) -> None:
        """The answer ``agent_completed`` carries when the block ends normally."""
        self.result = result

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        if error is None:
            data: dict[str, Any] = {"outcome": "success"}
            if self.result is not None:
                data["result"] = self.result
            if self._streamed:
                data["streamed"] = True
            await self.publish("agent_completed", data)
        elif isinstance(error, asyncio.CancelledError):
            # Stopped (the user's cancel, a shutdown): the run still ends, as cancelled.
            await asyncio.shield(self.publish("agent_completed", {"outcome": "cancelled", "error": "cancelled"}))
        else:
            await asyncio.shield(self.publish("agent_completed", {
                "outcome": "error", "error": f"{type(error).__name__}: {error}" if str(error) else type(error).__name__}))
        return False


class AgUiRun:
    """A run in native AG-UI events (``POST /v1/ag-ui/events``), for what the five AgentWire types do not say: an
    answer streamed token by token, and AG-UI 1.0's human in the loop. ``RUN_STARTED`` on entry; on exit
    ``RUN_FINISHED`` (success), ``RUN_FINISHED`` with the interrupt outcome if :meth:`interrupt` was called, or
    ``RUN_ERROR`` with the error that escaped."""

    def __init__(self, client: "AsyncClient", *, user: str, thread_id: str, run_id: str | None) -> None:
        self._client = client
        self.user = user
        self.thread_id = thread_id
        self.id = run_id or new_run_id()
        self._message: str | None = None
        self._messages = itertools.count(1)
        self._interrupts: list[dict[str, Any]] | None = None
        self._started = False

    async def send(self, *events: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = await self._client.publish_ag_ui(list(events), user=self.user,
                                                  run_id=self.id if self._started else None)
        self._started = True
        return answer

    async def __aenter__(self) -> "AgUiRun":
        await self.send({"type": "RUN_STARTED", "threadId": self.thread_id, "runId": self.id})
        return self

    async def text(self, delta: str) -> None:
        """Streams the assistant's answer: the first delta opens a text message, each one is a content event."""
        events: list[Mapping[str, Any]] = []
        if self._message is None:
            self._message = f"{self.id}-m{next(self._messages)}"
            events.append({"type": "TEXT_MESSAGE_START", "messageId": self._message, "role": "assistant"})
        events.append({"type": "TEXT_MESSAGE_CONTENT", "messageId": self._message, "delta": delta})
        await self.send(*events)

    async def end_text(self) -> None:
        """Closes the streamed message (done for you before the run ends)."""
        if self._message is not None:
            message, self._message = self._message, None
            await self.send({"type": "TEXT_MESSAGE_END", "messageId": message})

    def interrupt(self, interrupt_id: str, reason: str, message: str | None = None, *,
                  tool_call_id: str | None = None, response_schema: Mapping[str, Any] | None = None) -> None:
        """Ends the run asking the person (the thread waits until the next input's ``resume[]`` answers)."""
        entry: dict[str, Any] = {"id": interrupt_id, "reason": reason}
        if message is not None:
            entry["message"] = message
        if tool_call_id is not None:
            entry["toolCallId"] = tool_call_id
        if response_schema is not None:
            entry["responseSchema"] = dict(response_schema)
        self._interrupts = (self._interrupts or []) + [entry]

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        async def finish() -> None:
            await self.end_text()
            if error is None and self._interrupts:
                await self.send({"type": "RUN_FINISHED", "threadId": self.thread_id, "runId": self.id,
                                 "outcome": {"type": "interrupt", "interrupts": self._interrupts}})
            elif error is None:
                await self.send({"type": "RUN_FINISHED", "threadId": self.thread_id, "runId": self.id,
                                 "outcome": {"type": "success"}})
            elif isinstance(error, asyncio.CancelledError):
                await self.send({"type": "RUN_FINISHED", "threadId": self.thread_id, "runId": self.id,
                                 "outcome": {"type": "cancelled"}})
            else:
                await self.send({"type": "RUN_ERROR", "message": f"{type(error).__name__}: {error}",
                                 "code": "runtime_error"})
        await asyncio.shield(finish())
        return False
