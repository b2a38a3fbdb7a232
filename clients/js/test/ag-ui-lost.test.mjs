// A run whose input reaches no runtime, or whose runtime never starts it, ends with a typed error in AgentWireAgent,
// instead of waiting forever for events that will never come.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { runtimeThatDies, silentRuntime, startServer, token, waitFor, WebSocket } from "./harness.mjs";
import { AgentWireAgent, AgentWireError } from "agentwire-client";

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

describe("a run whose input is lost", { timeout: 60_000 }, () => {
  test("should reject runAgent() with message_lost when the runtime that had the input died unconfirmed", async () => {
    // Before: the server's agentwire.message_lost notice was not this run's event, the agent passed over it, and
    // runAgent() never settled: the user's screen stayed blank.
    const runtime = await runtimeThatDies(server);
    const errors = [];
    const agent = new AgentWireAgent({
      url: server.agUi, token: () => token("lost-input"), WebSocketImpl: WebSocket, threadId: "th-lost",
      initialMessages: [{ id: "u1", role: "user", content: "Anyone there?" }], onError: (e) => errors.push(e.code),
    });
    const outcome = agent.runAgent({ runId: "lost-run" }).then(() => "settled", (error) => error);
    const died = await runtime.died;
    assert.equal(died.run_id, "lost-run");
    assert.equal(died.tag, 1, "a confirming runtime's message carries its tag");
    const timeout = new Promise((ok) => setTimeout(() => ok("still waiting after 20 s"), 20_000).unref());
    const error = await Promise.race([outcome, timeout]);
    assert.ok(error instanceof AgentWireError, String(error));
    assert.equal(error.code, "message_lost");
    assert.match(error.message, /lost-run.*no_agent/);
    assert.deepEqual(errors, [], "nothing else went wrong");
  });
  test("should reject runAgent() with run_start_timeout when the runtime took the input and never started the run",
    async () => {
      // Before: nothing bounded the wait; AG-UI over HTTP had the server's start timeout, this socket had none.
      const runtime = await silentRuntime(server);
      try {
        const agent = new AgentWireAgent({
          url: server.agUi, token: () => token("never-started"), WebSocketImpl: WebSocket, threadId: "th-silent",
          initialMessages: [{ id: "u1", role: "user", content: "Hello?" }], runStartTimeoutMs: 500,
        });
        const started = Date.now();
        const outcome = agent.runAgent({ runId: "silent-run" }).then(() => "settled", (error) => error);
        const timeout = new Promise((ok) => setTimeout(() => ok("still waiting after 20 s"), 20_000).unref());
        const error = await Promise.race([outcome, timeout]);
        assert.ok(error instanceof AgentWireError, String(error));
        assert.equal(error.code, "run_start_timeout");
        assert.ok(Date.now() - started >= 500, "not before the limit");
        await waitFor(() => runtime.inputs.some((m) => m.run_id === "silent-run"));
      } finally {
        runtime.close();
      }
    });
});
