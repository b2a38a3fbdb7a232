// What the client sends while disconnected is held and sent once a socket is welcome, against a real server: paced
// within the server's frame rate (a burst of 40 frames, then 20 a second, past which it closes the socket 4002 and
// drops what follows), in order, and bounded.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startServer, token, waitFor, WebSocket } from "./harness.mjs";
import { AgentWireClient } from "agentwire-client";

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

describe("queue", () => {
  test("should send 60 messages queued while disconnected, all of them, on one socket", { timeout: 60_000 },
    async () => {
      // Before: the queue went out at once on the welcome, the server closed the socket 4002 past its burst of 40,
      // and every message after that was lost.
      const pongs = [];
      const closes = [];
      const client = new AgentWireClient({
        url: server.ws, token: () => token("queued-user"), WebSocketImpl: WebSocket,
        onControl: (m) => { if (m.type === "pong") pongs.push(m); },
        onStatus: (s) => { if (s.code !== undefined) closes.push(s.code); },
      });
      try {
        for (let i = 0; i < 60; i++) {
          client.send({ type: "ping" });
        }
        client.connect();
        await waitFor(() => pongs.length === 60 || closes.length > 0, 20_000, null,
          () => `pongs ${pongs.length}, closes ${closes}`);
        assert.deepEqual(closes, [], "the socket was never closed");
        assert.equal(pongs.length, 60);
      } finally {
        client.close();
      }
    });

  test("should refuse what is sent past 1,000 queued messages, and say so", { timeout: 30_000 }, async () => {
    const errors = [];
    const client = new AgentWireClient({
      url: server.ws, token: () => token("queue-bound"), WebSocketImpl: WebSocket,
      onError: (e) => errors.push(e.code),
    });
    for (let i = 0; i < 1_001; i++) {
      client.send({ type: "ping" });
    }
    assert.deepEqual(errors, ["queue_full"]);
    client.close();
  });
});
