"""One exception class per way a publish or a connection fails. All derive from AgentWireError."""

from __future__ import annotations

import builtins


class AgentWireError(Exception):
    """Anything the SDK raises for the server's or the network's sake.

    ``code`` is the server's status name (``run_not_started``, ``ring_full`` …) or the SDK's own (``network``,
    ``timeout``); ``status`` the HTTP status the server answered with, when there was one.
    """

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class NetworkError(AgentWireError):
    """The server could not be reached, or the connection broke before it answered (retried, then raised)."""

    def __init__(self, message: str) -> None:
        super().__init__("network", message)


class AuthError(AgentWireError):
    """The producer key was refused (401). Never retried."""


class RefusedError(AgentWireError):
    """The server refused the event for good: malformed (400), a run rule (422: ``run_not_started`` …), too large
    (413), or a native AG-UI rule (``ag_ui_invalid``, with ``rule``). Never retried: sending it again cannot help."""

    def __init__(self, code: str, message: str, status: int | None = None, rule: str | None = None) -> None:
        super().__init__(code, message, status)
        self.rule = rule


class BusyError(AgentWireError):
    """The server is saturated or stopping (429, 503: ``rate_limited``, ``ring_full``, ``unavailable`` …), after
    the SDK's retries ran out. ``retry_after`` is the server's hint in seconds, when it gave one."""

    def __init__(self, code: str, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(code, message, status)
        self.retry_after = retry_after


class TimeoutError(AgentWireError, builtins.TimeoutError):  # noqa: A001 - the kind's plain name, and a TimeoutError
    """No answer in ``timeout`` seconds: the event may or may not have been stored. Publishing it again with the same
    id is safe (the server answers ``duplicate`` for one it stored)."""

    def __init__(self, message: str) -> None:
        super().__init__("timeout", message)
