"""Starts the real server jar for the SDK's tests, and gives them users: a token, a user socket that records what
arrives, and a proxy that cuts connections. Needs the jar (``mvn -B -ntp package -DskipTests``, or AGENTWIRE_JAR)
and Debian's python3-websockets."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

SECRET = "python-sdk-test-secret-0123456789-0123456789"
PRODUCER_KEY = "python-sdk-test-producer-key-0123456789"
JAR = Path(os.environ.get("AGENTWIRE_JAR", Path(__file__).resolve().parents[3] / "server/target/agentwire.jar"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One ``agentwire serve`` on a loopback port, in its own process group; stopped by :meth:`stop`."""

    def __init__(self) -> None:
        if not JAR.exists():
            raise RuntimeError(f"no server jar at {JAR}: mvn -B -ntp package -DskipTests, or set AGENTWIRE_JAR")
        self.port = free_port()
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"
        java = Path(os.environ["JAVA_HOME"], "bin/java") if os.environ.get("JAVA_HOME") else "java"
        env = dict(os.environ, AGENTWIRE_JWT_SECRET=SECRET, AGENTWIRE_PRODUCER_KEY=PRODUCER_KEY,
                   AGENTWIRE_PRODUCER_RATE="100000", AGENTWIRE_PRODUCER_BURST="100000",
                   AGENTWIRE_INBOUND_RATE="100000", AGENTWIRE_INBOUND_BURST="100000")
        self.process = subprocess.Popen([str(java), "-jar", str(JAR), "serve", "--host", "127.0.0.1", "--port",
                                         str(self.port)], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.http}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not become ready in 60 s")

    def stall(self) -> None:
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@pytest.fixture(scope="module")
def server():
    running = Server()
    yield running
    running.stop()


def token(user: str, ttl_s: int = 600) -> str:
    """A user's HS256 token, as the application's backend would mint it."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": user, "exp": int(time.time()) + ttl_s}).encode())
    signature = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


class UserSocket:
    """A user's ``/v1/ws`` connection that records every frame."""

    def __init__(self, server: Server, user: str) -> None:
        self.url = f"{server.ws}/v1/ws?access_token={token(user)}"
        self.frames: list[dict[str, Any]] = []
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "UserSocket":
        import websockets
        self._socket = await websockets.connect(self.url, max_size=None)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await self.until(lambda frames: any(f.get("type") == "welcome" for f in frames))
        return self

    async def _read(self) -> None:
        import websockets
        try:
            async for raw in self._socket:
                self.frames.append(json.loads(raw))
        except websockets.exceptions.ConnectionClosed:
            pass

    @property
    def events(self) -> list[dict[str, Any]]:
        """What the user received that was an event (has a seq), in order."""
        return [f for f in self.frames if "seq" in f and f.get("type") not in ("welcome", "resumed")]

    async def send(self, message: dict[str, Any]) -> None:
        await self._socket.send(json.dumps(message))

    async def until(self, condition: Callable[[list[dict[str, Any]]], bool], timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition(self.frames):
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout_s} s; frames: {json.dumps(self.frames)[:2000]}")
            await asyncio.sleep(0.02)

    async def __aexit__(self, *exc: Any) -> None:
        await self._socket.close()
        if self._reader is not None:
            await self._reader


class CuttingProxy:
    """A TCP proxy to the server that, while armed, forwards a request and drops the server's answer: the client sees
    its connection cut after the server accepted what it sent. ``silence_all`` makes the connections open now drop
    every byte both ways and close nothing, as behind a NAT that forgot them."""

    def __init__(self, server: Server) -> None:
        self.target = server.port
        self.cuts_left = 0
        self.cuts = 0
        self.accepted = 0
        self._open: list[asyncio.StreamWriter] = []
        self._silenced: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    async def __aenter__(self) -> "CuttingProxy":
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self.accepted += 1
        self._open.append(writer)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, answers: bool) -> None:
            try:
                while data := await source.read(65536):
                    if writer in self._silenced:
                        continue
                    if answers and self.cuts_left > 0:
                        # The server answered: the answer is lost, and the connection with it.
                        self.cuts_left -= 1
                        self.cuts += 1
                        writer.transport.abort()
                        upstream_writer.close()
                        return
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer, False), pipe(upstream_reader, writer, True))

    def silence_all(self) -> None:
        self._silenced.update(self._open)

    async def __aexit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


def run(coroutine: Any, timeout_s: float = 90) -> Any:
    """Runs a test's coroutine, bounded in time."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout_s))
