"""Runs that always end, tool calls that always pair, AG-UI interrupts, and what users send reaching the runtime —
against the real server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentwire import AsyncClient, RefusedError
from conftest import PRODUCER_KEY, CuttingProxy, UserSocket, run


def types(socket):
    return [e["type"] for e in socket.events]


def completed_runs(socket):
    return sum(1 for e in socket.events if e["type"] == "agent_completed")


async def prompt_until(socket, runs, pause_s, thread_id):
    """Prompts, a new run each time, until the user's stream holds ``runs`` completed runs or 15 s passed, then awaits
    them, and returns the runs' events. Until the runtime is back a prompt is answered no_agent; one the server handed
    to the broken socket, which never took it, reaches no runtime, and the server tells the user so by an
    ``agentwire.message_lost`` event: those notices are left out, each checked to name a prompt sent here."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while completed_runs(socket) < runs and loop.time() < deadline:
        await socket.send({"type": "user_message", "thread_id": thread_id, "run_id": f"r-again-{loop.time()}",
                           "data": {"text": "again?"}})
        await asyncio.sleep(pause_s)
    await socket.until(lambda _: completed_runs(socket) >= runs, 10)
    notices = [e for e in socket.events if e["type"] == "agentwire.message_lost"]
    for notice in notices:
        assert notice["data"]["type"] == "user_message", notice
        assert notice["data"]["run_id"].startswith("r-again-"), notice
    return [e for e in socket.events if e["type"] != "agentwire.message_lost"]


def test_should_end_a_run_that_raises_midway_with_a_failed_completion(server):
    async def scenario():
        async with UserSocket(server, "raiser") as socket, AsyncClient(server.http, PRODUCER_KEY) as client:
            with pytest.raises(ValueError):
                async with client.run(user="raiser", thread_id="th", agent="fragile") as r:
                    await r.thinking("about to fail")
                    raise ValueError("the model answered nonsense")
            await socket.until(lambda _: len(socket.events) == 3)
            assert types(socket) == ["agent_started", "agent_thinking", "agent_completed"]
            assert socket.events[-1]["data"] == {"outcome": "error",
                                                 "error": "ValueError: the model answered nonsense"}
    run(scenario())


def test_should_pair_every_tool_call_with_its_completion_also_when_the_tool_fails(server):
    async def scenario():
        async with UserSocket(server, "tools") as socket, AsyncClient(server.http, PRODUCER_KEY) as client:
            async with client.run(user="tools", thread_id="th") as r:
                async def weather():
                    async with r.tool("weather", {"city": "Oslo"}) as call:
                        await asyncio.sleep(0.05)
                        call.result = {"temp": 4}

                async def flaky():
                    try:
                        async with r.tool("search", {"q": "fjords"}):
                            await asyncio.sleep(0.02)
                            raise TimeoutError("search timed out")
                    except TimeoutError:
                        pass  # the run goes on without it

                await asyncio.gather(weather(), flaky())  # in parallel
                r.complete("4 °C in Oslo")
            await socket.until(lambda _: len(socket.events) == 6)
            completed = {e["data"]["tool_call_id"]: e["data"] for e in socket.events
                         if e["type"] == "tool_completed"}
            assert sorted(d.get("error", "") for d in completed.values()) == ["", "TimeoutError: search timed out"]
            assert any(d.get("result") == {"temp": 4} for d in completed.values())
            assert socket.events[-1]["data"] == {"outcome": "success", "result": "4 °C in Oslo"}
    run(scenario())


def test_should_stream_the_answer_token_by_token_and_say_so_at_completion(server):
    async def scenario():
        async with UserSocket(server, "streamer") as socket, AsyncClient(server.http, PRODUCER_KEY) as client:
            async with client.run(user="streamer", thread_id="th") as r:
                answer = ""
                for token in ("It ", "is ", "4 °C."):
                    await r.answer(token)
                    answer += token
                r.complete(answer)
            await socket.until(lambda _: len(socket.events) == 5)
            assert types(socket) == ["agent_started", "agent_answer", "agent_answer", "agent_answer",
                                     "agent_completed"]
            assert "".join(e["data"]["text"] for e in socket.events[1:4]) == "It is 4 °C."
            assert socket.events[-1]["data"] == {"outcome": "success", "result": "It is 4 °C.", "streamed": True}
    run(scenario())


def test_should_end_a_cancelled_run_as_cancelled(server):
    async def scenario():
        async with UserSocket(server, "cancelled") as socket, AsyncClient(server.http, PRODUCER_KEY) as client:
            started = asyncio.Event()

            async def agent():
                async with client.run(user="cancelled", thread_id="th") as r:
                    await r.thinking("thinking for a long time")
                    started.set()
                    await asyncio.sleep(60)

            task = asyncio.get_running_loop().create_task(agent())
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await socket.until(lambda _: len(socket.events) == 3)
            assert socket.events[-1]["data"]["outcome"] == "cancelled"
    run(scenario())


def test_should_be_routed_no_user_message_while_it_only_publishes_and_take_them_once_it_reads_them(server):
    # Before: a client publishing over its socket without reading messages() was routed its share of users'
    # messages, round robin; they piled up unread in its queue, and no user heard of it.
    async def scenario():
        async with UserSocket(server, "publisher-only") as socket, \
                AsyncClient(server.http, PRODUCER_KEY, transport="socket") as client:
            await client.publish(user="publisher-only", type="app.note", data={})
            await client.flush()
            await socket.send({"type": "user_message", "thread_id": "th", "data": {"text": "anyone?"}})
            await socket.until(lambda frames: any(f.get("code") == "no_agent" for f in frames))

            # Reading messages, the client takes them: its publish-only socket is replaced.
            await client.connect()
            await socket.send({"type": "user_message", "thread_id": "th", "data": {"text": "now?"}})
            message = await asyncio.wait_for(anext(client.messages()), 10)
            assert message.text == "now?"
    run(scenario())


def test_should_take_a_prompt_from_the_user_and_answer_it_with_a_run(server):
    async def scenario():
        async with UserSocket(server, "asker") as socket, AsyncClient(server.http, PRODUCER_KEY) as client:
            async def runtime():
                async for message in client.messages():
                    if message.type == "user_message":
                        async with client.run(user=message.user, thread_id=message.thread_id,
                                              run_id=message.run_id) as r:
                            await r.thinking(f"reading: {message.text}")
                            async with r.tool("calculator", {"expression": "17*23"}) as call:
                                call.result = 391
                            r.complete("17*23 = 391")

            await client.connect()  # users' messages are routed here from now on
            agent = asyncio.get_running_loop().create_task(runtime())
            try:
                await socket.send({"type": "user_message", "thread_id": "th-1", "run_id": "r-ask",
                                   "data": {"text": "what is 17*23?"}})
                await socket.until(lambda _: len(socket.events) == 5)
                assert types(socket) == ["agent_started", "agent_thinking", "tool_executing", "tool_completed",
                                         "agent_completed"]
                assert all(e["run_id"] == "r-ask" for e in socket.events)
                assert socket.events[1]["data"]["text"] == "reading: what is 17*23?"

                # The runtime's socket breaks: it reconnects on its own and takes the next prompt.
                await client._socket._socket.close()
                events = await prompt_until(socket, 2, 0.5, "th-1")
                assert [e["type"] for e in events[5:10]] == ["agent_started", "agent_thinking", "tool_executing",
                                                             "tool_completed", "agent_completed"], events
                assert all(e["run_id"].startswith("r-again-") for e in events[5:10]), events
            finally:
                agent.cancel()
    run(scenario())


@pytest.mark.parametrize("transport", ["http", "socket"])
def test_should_stream_an_answer_and_stop_for_an_interrupt_answered_in_the_next_input(server, transport):
    async def scenario():
        user = f"approver-{transport}"
        async with UserSocket(server, user) as socket, AsyncClient(server.http, PRODUCER_KEY,
                                                                   transport=transport) as client:
            async with client.ag_ui_run(user=user, thread_id="th-book", run_id="ask") as r:
                for token in ("I can ", "book ", "that."):
                    await r.text(token)
                r.interrupt("approve-1", "approval", "Book the 17:05 to Bergen?")
            await socket.until(lambda _: any(e["type"] == "ag-ui.run_finished" for e in socket.events))
            finished = [e for e in socket.events if e["type"] == "ag-ui.run_finished"][0]["data"]
            assert finished["outcome"]["type"] == "interrupt"
            assert [e["data"]["delta"] for e in socket.events if e["type"] == "ag-ui.text_message_content"] == \
                ["I can ", "book ", "that."]

            # The thread waits: the user's answer reaches the runtime as the next input's resume[].
            await client.connect()
            inbound = client.messages()
            # A batch that breaks AG-UI's rules is refused whole, with the rule.
            with pytest.raises(RefusedError) as refused:
                await client.publish_ag_ui([{"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "x"}],
                                           user=user, run_id="ask")
            assert refused.value.code == "ag_ui_invalid" and refused.value.rule == "run_finished"
            await socket.send({"type": "user_message", "thread_id": "th-book", "run_id": "answer",
                               "data": {"text": "", "input": {"threadId": "th-book", "runId": "answer",
                                                              "resume": [{"interruptId": "approve-1",
                                                                          "status": "resolved",
                                                                          "payload": {"ok": True}}]}}})
            message = await asyncio.wait_for(inbound.__anext__(), 20)
            assert message.resume == [{"interruptId": "approve-1", "status": "resolved", "payload": {"ok": True}}]
    run(scenario())


def test_should_give_up_a_socket_that_fell_silent_and_take_the_next_prompt_on_a_new_one(server):
    async def scenario():
        async with UserSocket(server, "quiet") as socket, CuttingProxy(server) as proxy, \
                AsyncClient(proxy.url, PRODUCER_KEY, transport="socket", heartbeat_s=0.2) as client:
            async def runtime():
                async for message in client.messages():
                    if message.type == "user_message":
                        async with client.run(user=message.user, thread_id=message.thread_id,
                                              run_id=message.run_id) as r:
                            r.complete(f"heard: {message.text}")

            await client.connect()
            agent = asyncio.get_running_loop().create_task(runtime())
            try:
                await socket.send({"type": "user_message", "thread_id": "th", "run_id": "r-1", "data": {"text": "1"}})
                await socket.until(lambda _: len(socket.events) == 2)
                # Silent, closed by no one: only the heartbeat can tell. The server still holds its end, so prompts
                # go round robin to it (lost with it) and to the new connection, until one is answered.
                proxy.silence_all()
                events = await prompt_until(socket, 2, 0.3, "th")
                assert [e["type"] for e in events[2:4]] == ["agent_started", "agent_completed"], events
                assert proxy.accepted == 2
            finally:
                agent.cancel()
    run(scenario())


def test_should_keep_a_socket_whose_loop_is_behind_and_lose_no_message(server):
    # Past what the client queues (1,024) and what websockets and the kernel hold (1.5 MB): the socket's reads are
    # held back, and a connection given up for it would lose what its buffers held.
    prompts = 1_500
    padding = "x" * 1_000

    async def scenario():
        async with UserSocket(server, "patient") as socket, CuttingProxy(server) as proxy, \
                AsyncClient(proxy.url, PRODUCER_KEY, transport="socket", heartbeat_s=0.5) as client:
            release = asyncio.Event()
            handled: set[str] = set()

            async def runtime():
                async for message in client.messages():
                    if message.type == "user_message":
                        await release.wait()
                        handled.add(message.text)

            await client.connect()
            agent = asyncio.get_running_loop().create_task(runtime())
            try:
                for i in range(prompts):
                    await socket.send({"type": "user_message", "thread_id": "th", "data": {"text": f"p{i} {padding}"}})
                await asyncio.sleep(2.5)  # five heartbeat intervals in which no pong can be read
                release.set()
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 20
                while len(handled) < prompts and loop.time() < deadline:
                    await asyncio.sleep(0.01)
                assert len(handled) == prompts
                await asyncio.sleep(1.5)  # three more intervals: no late reconnect either
                assert proxy.accepted == 1
            finally:
                agent.cancel()
    run(scenario())


# A runtime in a process of its own: it takes the first message and sits on it, so the rest wait in its client's
# queue, read from the socket but not taken.
SITTING_RUNTIME = """
import asyncio, sys
from agentwire import AsyncClient

async def main(url, key):
    async with AsyncClient(url, key) as client:
        await client.connect()
        print("connected", flush=True)
        async for message in client.messages():
            print("took", message.text, flush=True)
            await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_should_give_another_runtime_what_a_killed_one_had_read_but_not_taken(server):
    # Before: a message the server had written to a runtime's socket was its; those its process held when it died
    # were lost, and their senders never told.
    src = str(Path(__file__).resolve().parents[1] / "src")
    dying = subprocess.Popen([sys.executable, "-c", SITTING_RUNTIME, server.http, PRODUCER_KEY], text=True,
                             stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=src))
    try:
        assert dying.stdout.readline().strip() == "connected"

        async def scenario():
            loop = asyncio.get_running_loop()
            async with UserSocket(server, "left-behind") as socket:
                for n in range(6):
                    await socket.send({"type": "user_message", "thread_id": "th", "data": {"text": f"m{n}"}})
                # Answered after the six were routed: all went to the only runtime.
                await socket.send({"type": "ping"})
                await socket.until(lambda frames: any(f.get("type") == "pong" for f in frames))
                assert (await loop.run_in_executor(None, dying.stdout.readline)).strip() == "took m0"
                async with AsyncClient(server.http, PRODUCER_KEY) as heir:
                    await heir.connect()
                    dying.kill()
                    got = []

                    async def take():
                        async for message in heir.messages():
                            got.append(message)
                            if len(got) == 5:
                                return
                    await asyncio.wait_for(take(), 15)
                    assert [m.text for m in got] == ["m1", "m2", "m3", "m4", "m5"]
                    assert all(m.redelivered for m in got), got
        run(scenario())
    finally:
        dying.kill()
        dying.wait(10)
