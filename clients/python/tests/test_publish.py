"""Publishing through the SDK against the real server: numbers, order, batching, retries after a cut that deliver
nothing twice, backpressure while the server is stalled, and each failure kind as its own exception."""

from __future__ import annotations

import asyncio

import pytest

from agentwire import AsyncClient, AuthError, Client, RefusedError
from conftest import PRODUCER_KEY, CuttingProxy, Server, UserSocket, run


@pytest.mark.parametrize("transport", ["http", "socket"])
def test_should_number_events_in_order_and_deliver_them_to_the_user(server, transport):
    async def scenario():
        user = f"order-{transport}"
        async with UserSocket(server, user) as socket, AsyncClient(server.http, PRODUCER_KEY,
                                                                   transport=transport) as client:
            published = await asyncio.gather(*(client.publish("app.progress", {"n": n}, user=user)
                                                for n in range(100)))
            assert [p.seq for p in published] == list(range(1, 101))
            assert all(p.status == "accepted" and p.seqs[0].user == user for p in published)
            await socket.until(lambda _: len(socket.events) == 100)
            assert [e["data"]["n"] for e in socket.events] == list(range(100))
            assert [e["seq"] for e in socket.events] == list(range(1, 101))
    run(scenario())


def test_should_batch_publishes_that_arrive_together(server):
    async def scenario():
        user = "batched"
        async with UserSocket(server, user) as socket, AsyncClient(server.http, PRODUCER_KEY,
                                                                   linger_ms=20) as client:
            await asyncio.gather(*(client.publish("app.tick", {"n": n}, user=user) for n in range(500)))
            assert client.stats["events_sent"] == 500
            assert client.stats["batches_sent"] <= 5, client.stats
            await socket.until(lambda _: len(socket.events) == 500)
    run(scenario())


def test_should_retry_a_batch_whose_answer_was_cut_and_deliver_each_event_once(server):
    async def scenario():
        user = "cut-answer"
        async with UserSocket(server, user) as socket, CuttingProxy(server) as proxy, \
                AsyncClient(proxy.url, PRODUCER_KEY, linger_ms=10) as client:
            proxy.cuts_left = 1  # the server stores the first batch; its answer never arrives
            published = await asyncio.gather(*(client.publish("app.step", {"n": n}, user=user) for n in range(20)))
            assert proxy.cuts == 1
            # Stored by the attempt whose answer was cut: the retry, with the same ids, is answered duplicate.
            assert {p.status for p in published} == {"duplicate"}
            assert client.stats["events_sent"] == 40
            await socket.until(lambda _: len(socket.events) == 20)
            await asyncio.sleep(0.5)  # nothing more comes
            assert [e["data"]["n"] for e in socket.events] == list(range(20))
            assert len({e["id"] for e in socket.events}) == 20
    run(scenario())


def test_should_keep_memory_bounded_while_the_server_is_stalled_and_deliver_everything_after():
    async def scenario(stalled: Server):
        user = "stalled"
        async with UserSocket(stalled, user) as socket, AsyncClient(stalled.http, PRODUCER_KEY, max_in_flight=50,
                                                                   max_batch_events=20, timeout_s=60) as client:
            stalled.stall()
            tasks = [asyncio.get_running_loop().create_task(client.publish("app.n", {"n": n}, user=user))
                     for n in range(1000)]
            peak = 0
            for _ in range(20):
                await asyncio.sleep(0.05)
                peak = max(peak, client.unanswered)
            assert 0 < peak <= 50, peak
            assert not any(t.done() for t in tasks), "publish waits while the server is stalled"
            stalled.resume()
            published = await asyncio.gather(*tasks)
            assert [p.seq for p in published] == list(range(1, 1001))
            await socket.until(lambda _: len(socket.events) == 1000)
            assert [e["data"]["n"] for e in socket.events] == list(range(1000))

    stalled = Server()
    try:
        run(scenario(stalled), 120)
    finally:
        stalled.stop()


def test_should_raise_one_exception_class_per_failure_kind(server):
    async def scenario():
        async with AsyncClient(server.http, PRODUCER_KEY) as client:
            with pytest.raises(RefusedError) as refused:
                await client.publish("agent_thinking", {"text": "?"}, user="rules", run_id="never-started")
            assert refused.value.code == "run_not_started" and refused.value.status == 422
        async with AsyncClient(server.http, "not-the-key", max_attempts=2) as wrong:
            with pytest.raises(AuthError):
                await wrong.publish("app.x", {}, user="rules")
        async with AsyncClient(server.http, PRODUCER_KEY, transport="socket") as client:
            with pytest.raises(RefusedError) as refused:
                await client.publish("tool_completed", {"tool_call_id": "c", "result": 1}, user="rules",
                                     run_id="nope")
            assert refused.value.code == "run_not_started"
    run(scenario())


def test_should_publish_from_synchronous_code(server):
    async def receive():
        async with UserSocket(server, "sync-user") as socket:
            def publish():
                with Client(server.http, PRODUCER_KEY) as client:
                    with client.run(user="sync-user", thread_id="th", agent="sync") as r:
                        r.thinking("working")
                        call = r.tool_started("add", {"a": 2, "b": 3})
                        r.tool_done(call, result=5)
                        r.complete("2 + 3 = 5")
            await asyncio.get_running_loop().run_in_executor(None, publish)
            await socket.until(lambda _: len(socket.events) == 5)
            assert [e["type"] for e in socket.events] == ["agent_started", "agent_thinking", "tool_executing",
                                                          "tool_completed", "agent_completed"]
            assert socket.events[-1]["data"] == {"outcome": "success", "result": "2 + 3 = 5"}
    run(receive())


def test_should_fail_within_its_timeout_when_the_socket_cannot_connect():
    async def scenario():
        from conftest import free_port
        from agentwire import AgentWireError
        dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        async with AsyncClient(dead, PRODUCER_KEY, transport="socket", timeout_s=1.0, max_attempts=3,
                               max_backoff_s=0.2) as client:
            started = asyncio.get_running_loop().time()
            with pytest.raises(AgentWireError) as failed:
                await client.publish("app.x", {}, user="nobody")
            assert failed.value.code in ("network", "timeout")
            assert asyncio.get_running_loop().time() - started < 8, "bounded by the timeout, not hanging"
    run(scenario(), 20)
