"""AgentWire's producer SDK: publish an agent's events to its user — in order, exactly once, with bounded memory —
and receive what users send. ``AsyncClient`` (asyncio) and ``Client`` (a thin synchronous facade)."""

from ._model import Inbound, Published, Seq
from ._runs import AgUiRun, Run, ToolCall
from .client import AsyncClient
from .errors import AgentWireError, AuthError, BusyError, NetworkError, RefusedError, TimeoutError
from .sync import Client

__all__ = ["AsyncClient", "Client", "Run", "AgUiRun", "ToolCall", "Published", "Seq", "Inbound", "AgentWireError",
           "AuthError", "BusyError", "NetworkError", "RefusedError", "TimeoutError"]
__version__ = "0.1.0"
