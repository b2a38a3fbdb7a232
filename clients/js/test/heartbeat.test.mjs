// The client's heartbeat against a real server, through a TCP proxy that can silence its connections: a socket whose
// network went away without a word (no close, no error) is dropped and resumed, and nothing is lost or doubled; and
// a socket that never opens (its upgrade never answered) is abandoned and tried again.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { producerRuntime, publish, startServer, token, waitFor, WebSocket } from "./harness.mjs";
import { AgentWireAgent, AgentWireClient } from "agentwire-client";

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

/**
 * A TCP proxy to the server; silenceAll() makes the connections open now drop every byte both ways, closing none.
 * The first `stalled` connections it accepts are held open and never reach the server; `stalledClosed()` counts
 * those their client closed.
 */
async function silencingProxy(target, { stalled = 0 } = {}) {
  const open = [];
  const silenced = new Set();
  let accepted = 0;
  let stalledClosed = 0;
  const proxy = net.createServer((client) => {
    accepted++;
    if (accepted <= stalled) {
      open.push(client);
      client.on("error", () => {});
      client.on("close", () => stalledClosed++);
      client.resume(); // read and drop the upgrade request, so that the client's close is seen
      return;
    }
    const upstream = net.connect(target.port, "127.0.0.1");
    open.push(client, upstream);
    client.on("data", (data) => { if (!silenced.has(client)) upstream.write(data); });
    upstream.on("data", (data) => { if (!silenced.has(upstream)) client.write(data); });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise((ok) => proxy.listen(0, "127.0.0.1", ok));
  return {
    url: (path = "/v1/ws") => `ws://127.0.0.1:${proxy.address().port}${path}`,
    accepted: () => accepted,
    stalledClosed: () => stalledClosed,
    silenceAll: () => open.forEach((socket) => silenced.add(socket)),
    close: () => {
      open.forEach((socket) => socket.destroy());
      return new Promise((ok) => proxy.close(ok));
    },
  };
}

describe("heartbeat", () => {
  test("should drop a socket that fell silent, resume on a new one, and lose no event", { timeout: 60_000 },
    async () => {
      const port = Number(new URL(server.ws).port);
      const proxy = await silencingProxy({ port });
      const user = "silent-network";
      const seqs = [];
      let welcomed = false;
      const client = new AgentWireClient({
        url: proxy.url(), token: () => token(user), WebSocketImpl: WebSocket, initialBackoffMs: 5, maxBackoffMs: 50,
        heartbeatMs: 200, onEvent: (e) => seqs.push(e.seq),
        onStatus: (s) => { welcomed ||= s.state === "connected"; },
      });
      try {
        client.connect();
        // The welcome, not the open socket, is where the stream starts: an event published between the two is
        // history to a first connection, and a busy machine makes that gap wide.
        await waitFor(() => welcomed, 10_000);
        await publish(server, [{ user, type: "app.step", data: { n: 1 } }]);
        await waitFor(() => seqs.length === 1, 10_000, null, () => `seqs ${seqs}`);

        // The network goes: nothing is closed, so only the heartbeat can tell. The event published meanwhile
        // reaches the user through the resume on a new connection.
        const acceptedBefore = proxy.accepted();
        proxy.silenceAll();
        await publish(server, [{ user, type: "app.step", data: { n: 2 } }]);
        await waitFor(() => seqs.length === 2, 15_000, null, () => `seqs ${seqs}`);
        assert.deepEqual(seqs, [1, 2]);
        assert.ok(proxy.accepted() > acceptedBefore, `connections accepted ${proxy.accepted()}`);
      } finally {
        client.close();
        await proxy.close();
      }
    });

  test("should abandon a socket whose upgrade is never answered, connect again, and deliver", { timeout: 60_000 },
    async () => {
      const port = Number(new URL(server.ws).port);
      // Two connects held: the first attempt's and the retry's, so a retry that did not back off would show.
      const proxy = await silencingProxy({ port }, { stalled: 2 });
      const user = "stalled-upgrade";
      const errors = [];
      const states = [];
      const seqs = [];
      const client = new AgentWireClient({
        url: proxy.url(), token: () => token(user), WebSocketImpl: WebSocket, initialBackoffMs: 5, maxBackoffMs: 50,
        connectTimeoutMs: 300, onEvent: (e) => seqs.push(e.seq), onError: (e) => errors.push(e.code),
        onStatus: (s) => states.push(s.state),
      });
      try {
        client.connect();
        await waitFor(() => states.includes("connected"), 15_000, null, () => `states ${states} errors ${errors}`);
        assert.deepEqual(errors, ["connect_timeout", "connect_timeout"]);
        assert.equal(proxy.accepted(), 3);
        // The abandoned sockets were closed, not left to the network.
        await waitFor(() => proxy.stalledClosed() === 2, 10_000, null, () => `closed ${proxy.stalledClosed()}`);

        await publish(server, [{ user, type: "app.step", data: { n: 1 } }]);
        await waitFor(() => seqs.length === 1, 10_000, null, () => `seqs ${seqs}`);
        assert.deepEqual(seqs, [1]);
        assert.equal(client.connected, true);
      } finally {
        client.close();
        await proxy.close();
      }
    });

  test("should fail within maxConnectAttempts when no upgrade is ever answered", { timeout: 30_000 }, async () => {
    const port = Number(new URL(server.ws).port);
    const proxy = await silencingProxy({ port }, { stalled: 1_000 });
    const errors = [];
    const states = [];
    const client = new AgentWireClient({
      url: proxy.url(), token: () => token("never-open"), WebSocketImpl: WebSocket, initialBackoffMs: 5,
      maxBackoffMs: 20, connectTimeoutMs: 100, maxConnectAttempts: 3, onError: (e) => errors.push(e.code),
      onStatus: (s) => states.push(s.state),
    });
    try {
      client.connect();
      await waitFor(() => states.includes("failed"), 10_000, null, () => `states ${states} errors ${errors}`);
      assert.deepEqual(errors, ["connect_timeout", "connect_timeout", "connect_timeout", "connect_failed"]);
      assert.equal(proxy.accepted(), 3);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  test("should finish an agent's run whose first socket never opened, the timeout retried, not ending it",
    { timeout: 60_000 }, async () => {
      const port = Number(new URL(server.ws).port);
      const proxy = await silencingProxy({ port }, { stalled: 1 });
      const runtime = await producerRuntime(server, { stepMs: 10 });
      const errors = [];
      try {
        const agent = new AgentWireAgent({
          url: proxy.url("/v1/ag-ui"), token: () => token("stalled-agent"), WebSocketImpl: WebSocket,
          threadId: "th-stalled", initialBackoffMs: 5, maxBackoffMs: 50, connectTimeoutMs: 300,
          initialMessages: [{ id: "u1", role: "user", content: "Weather in Oslo?" }],
          onError: (e) => errors.push(e.code),
        });
        const types = [];
        await agent.runAgent({ runId: "stalled-run" }, { onEvent: ({ event }) => types.push(event.type) });
        assert.equal(types[0], "RUN_STARTED");
        assert.equal(types.at(-1), "RUN_FINISHED");
        assert.deepEqual(errors, ["connect_timeout"]);
        assert.equal(proxy.accepted(), 2);
      } finally {
        runtime.close();
        await proxy.close();
      }
    });

  for (const path of ["/v1/ws", "/v1/ag-ui"]) {
    test(`should keep a quiet ${path} connection that answers its pings`, { timeout: 30_000 }, async () => {
      const port = Number(new URL(server.ws).port);
      const proxy = await silencingProxy({ port });
      const pongs = [];
      const client = new AgentWireClient({
        url: proxy.url(path), token: () => token("quiet-user"), WebSocketImpl: WebSocket, heartbeatMs: 300,
        onControl: (m) => { if (m.type === "pong") pongs.push(m); },
      });
      try {
        client.connect();
        // An interval wide enough that a pong delayed by a busy machine still arrives within it.
        await waitFor(() => pongs.length >= 5, 10_000, null, () => `pongs ${pongs.length}`);
        assert.equal(proxy.accepted(), 1);
        assert.equal(client.connected, true);
      } finally {
        client.close();
        await proxy.close();
      }
    });
  }
});
