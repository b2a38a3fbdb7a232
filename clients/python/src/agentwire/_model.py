"""What a publish returns, what a runtime receives, and how an event is written."""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Seq:
    """An event's number in one recipient's stream: resume a client with ``(epoch, seq)``."""

    user: str
    epoch: int
    seq: int


@dataclass(frozen=True)
class Published:
    """A stored event: ``status`` is ``accepted``, or ``duplicate`` when an earlier attempt with the same ``id``
    stored it (a retry after a cut: delivered once, its numbers were told to that attempt). ``seqs`` has one entry
    per recipient (a room's or broadcast's event has several)."""

    id: str
    status: str
    seqs: tuple[Seq, ...] = ()

    @property
    def epoch(self) -> int | None:
        return self.seqs[0].epoch if self.seqs else None

    @property
    def seq(self) -> int | None:
        return self.seqs[0].seq if self.seqs else None


@dataclass(frozen=True)
class Inbound:
    """A message a user sent, routed to this runtime: ``user_message`` (a prompt; an AG-UI front end's whole
    ``RunAgentInput`` in ``data["input"]``), ``cancel`` (stop ``run_id``), or ``presence`` (``data["state"]`` is
    ``online`` / ``offline``)."""

    type: str
    user: str
    thread_id: str | None = None
    run_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    #: True when it went to another runtime first, whose connection ended before it confirmed taking it: that runtime
    #: may have acted on it (a run of ``run_id`` may exist already; without one, the user may be answered twice).
    redelivered: bool = False

    @property
    def text(self) -> str | None:
        """The prompt's text (the newest user message's, for an AG-UI input)."""
        value = self.data.get("text")
        return value if isinstance(value, str) else None

    @property
    def input(self) -> Mapping[str, Any] | None:
        """An AG-UI front end's ``RunAgentInput``: messages, tools, context, state, forwardedProps, resume …"""
        value = self.data.get("input")
        return value if isinstance(value, Mapping) else None

    @property
    def resume(self) -> list[Mapping[str, Any]]:
        """The answers to the thread's AG-UI interrupts (``interruptId``, ``status``, ``payload``), or []."""
        value = (self.input or {}).get("resume")
        return list(value) if isinstance(value, list) else []

    @staticmethod
    def of(frame: Mapping[str, Any]) -> "Inbound":
        data = frame.get("data")
        if frame.get("type") == "presence":
            data = {"state": frame.get("state")}
        return Inbound(type=str(frame.get("type")), user=str(frame.get("user")), thread_id=frame.get("thread_id"),
                       run_id=frame.get("run_id"), data=data if isinstance(data, Mapping) else {},
                       redelivered=frame.get("redelivered") is True)


class Ids:
    """Idempotency keys: one per event, unique to this process and its start (``<random>-<counter>``), so a retried
    event is recognised by the server and never delivered twice."""

    def __init__(self) -> None:
        self._prefix = "py-" + os.urandom(6).hex()
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"


def event(*, user: str | None, room: str | None, broadcast: bool, type: str, run_id: str | None,
          thread_id: str | None, data: Mapping[str, Any] | None, id: str) -> dict[str, Any]:
    """One event as the wire contract writes it (docs/PROTOCOL.md): exactly one of user, room or broadcast."""
    if sum((user is not None, room is not None, bool(broadcast))) != 1:
        raise ValueError(f"exactly one of user, room or broadcast: user={user!r} room={room!r} broadcast={broadcast}")
    if not type:
        raise ValueError("type is required")
    out: dict[str, Any] = {"type": type, "id": id, "data": dict(data or {})}
    if user is not None:
        out["user"] = user
    elif room is not None:
        out["room"] = room
    else:
        out["broadcast"] = True
    if run_id is not None:
        out["run_id"] = run_id
    if thread_id is not None:
        out["thread_id"] = thread_id
    return out


def size_of(value: Mapping[str, Any]) -> int:
    """Bytes the event takes on the wire (what batches are bounded by)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
