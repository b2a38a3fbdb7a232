// /v1/ag-ui judged by AG-UI's own code: every frame through @ag-ui/core's schemas, every run through
// @ag-ui/client's verifyEvents — live, across cuts and resumes, for late joiners, and through AgentWireAgent.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  agUiRuntime, approvalRuntime, assertAgUi, byRun, producerRuntime, publish, publishAgUi, rawSocket, scriptedRun, startServer, token, verifyRun, waitFor,
  WebSocket,
} from "./harness.mjs";
// By the package's own name, as an application imports it (a self-reference through package.json's "exports"):
// the name the README tells people to install is the name that resolves.
import { AgentWireAgent, AgentWireClient, AgentWireError } from "agentwire-client";

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

const ended = (events) => events.length > 0 && ["RUN_FINISHED", "RUN_ERROR"].includes(events.at(-1).type);

describe("GET /v1/ag-ui", { timeout: 120_000 }, () => {
  test("should deliver full runs with parallel tool calls and a tool error that each verify", async () => {
    const socket = rawSocket(server.agUi, "full");
    await socket.opened;
    await socket.until((f) => f.some((m) => m.name === "agentwire.live"));
    const runs = ["f1", "f2", "f3"];
    // Interleaved, as concurrent runs of one user are: the client demultiplexes them by runId.
    const scripts = runs.map((r, i) => scriptedRun("full", r, "th-full", { fail: i === 2 }));
    for (let step = 0; step < scripts[0].length; step++) {
      await publish(server, scripts.map((s) => s[step]));
    }
    await socket.until((f) => runs.every((r) => ended(byRun(f).get(r) ?? [])));
    socket.close();

    assertAgUi(socket.frames);
    const demuxed = byRun(socket.frames);
    for (const r of runs) {
      const events = demuxed.get(r);
      const verified = await verifyRun(events);
      assert.equal(verified.length, events.length);
      assert.equal(events[0].type, "RUN_STARTED");
      const calls = events.filter((e) => e.type === "TOOL_CALL_START").map((e) => e.toolCallName);
      assert.deepEqual(calls, ["forecast", "alerts"]);
      const results = events.filter((e) => e.type === "TOOL_CALL_RESULT");
      assert.equal(results[0].content, "alerts service unavailable");
    }
    assert.equal(demuxed.get("f3").at(-1).type, "RUN_ERROR");
    assert.equal(demuxed.get("f3").at(-1).message, "model overloaded");
    assert.equal(demuxed.get("f1").at(-1).type, "RUN_FINISHED");
    assert.ok(demuxed.get("f1").some((e) => e.type === "TEXT_MESSAGE_CONTENT" && e.delta.includes("Oslo")));
    const control = socket.frames.filter((m) => !m.metadata);
    assert.deepEqual(control.map((m) => m.name), ["agentwire.welcome", "agentwire.live"]);
  });

  test("should verify 100 runs each cut at a random point and resumed by cursor, no part twice", async () => {
    const user = "cuts";
    const total = 100;
    const seen = [];
    const keys = new Set();
    let duplicates = 0;
    let resumes = 0;
    let welcomed = false;
    // Each run is cut once, after a random number of its AG-UI events (a scripted run has 20-23): anywhere, also
    // between two parts of one AgentWire event.
    const cutAfter = new Map(Array.from({ length: total }, (_, i) => [`cut-${i}`, 1 + Math.floor(Math.random() * 19)]));
    const counts = new Map();
    const cut = new Set();
    const client = new AgentWireClient({
      url: server.agUi,
      token: () => token(user),
      WebSocketImpl: WebSocket,
      initialBackoffMs: 5,
      maxBackoffMs: 50,
      onStatus: (s) => { welcomed ||= s.state === "connected"; },
      onResumed: (r) => {
        resumes++;
        assert.equal(r.recovered, true, "history still holds everything after the cursor");
      },
      onEvent: (e) => {
        const c = e.metadata?.agentwire;
        if (c) {
          const key = `${c.epoch}/${c.seq}/${c.part}`;
          if (keys.has(key)) {
            duplicates++;
          }
          keys.add(key);
        }
        seen.push(e);
        const runId = c?.runId;
        if (runId && !cut.has(runId)) {
          counts.set(runId, (counts.get(runId) ?? 0) + 1);
          if (counts.get(runId) === cutAfter.get(runId)) {
            cut.add(runId);
            client.drop(); // nothing more of this connection reaches the application
          }
        }
      },
    });
    client.connect();
    await waitFor(() => welcomed); // the stream starts at the welcome: what comes before it is history
    for (let i = 0; i < total; i++) {
      await publish(server, scriptedRun(user, `cut-${i}`, "th-cuts", { fail: i % 10 === 9 }));
    }
    await waitFor(() => {
      const runs = byRun(seen);
      return runs.size === total && [...runs.values()].every(ended);
    }, 60_000, null, () => `runs complete: ${[...byRun(seen).values()].filter(ended).length}/${total}, cut ${cut.size}`);
    client.close();

    assert.equal(cut.size, total, "every run was cut");
    assert.equal(duplicates, 0, "the client never hands over a part twice");
    assert.ok(resumes >= total, `resumed ${resumes} times`);
    assertAgUi(seen);
    for (const [runId, events] of byRun(seen)) {
      await assert.doesNotReject(verifyRun(events), `run ${runId}`);
    }
  });

  test("should open a run for a client that joins midway, so what it sees from there verifies", async () => {
    const user = "late";
    const script = scriptedRun(user, "mid", "th-late");
    await publish(server, script.slice(0, 4)); // started, thinking, two tool calls open
    const socket = rawSocket(server.agUi, user);
    await socket.opened;
    await socket.until((f) => f.some((m) => m.name === "agentwire.live"));
    await publish(server, script.slice(4));
    await socket.until((f) => ended(byRun(f).get("mid") ?? []));
    socket.close();

    assertAgUi(socket.frames);
    const events = byRun(socket.frames).get("mid");
    assert.equal(events[0].type, "RUN_STARTED");
    assert.equal(events[0].metadata.agentwire.prelude, true);
    assert.ok(!events.slice(1).some((e) => e.metadata.agentwire.prelude));
    assert.ok(!events.some((e) => e.type === "TOOL_CALL_START"), "the calls started before the join are not replayed");
    await verifyRun(events);
  });

  test("should send the whole RunAgentInput, keep its configuration through clone(), and state its capabilities",
    async () => {
      const runtime = await agUiRuntime(server);
      try {
        const agent = new AgentWireAgent({
          url: server.agUi, token: () => token("input-user"), WebSocketImpl: WebSocket, threadId: "th-input",
          initialMessages: [{ id: "u1", role: "user", content: "Plan my trip" }], initialState: { budget: 900 },
          capabilities: { tools: { supported: true } },
        });
        // A clone is a whole agent: same socket configuration, its own run.
        const copy = agent.clone();
        assert.ok(copy instanceof AgentWireAgent);
        await copy.runAgent({
          runId: "input-run-1",
          tools: [{ name: "book", description: "books", parameters: { type: "object", properties: {} } }],
          context: [{ description: "home", value: "Oslo" }], forwardedProps: { tier: "gold" },
        });
        const input = runtime.inputs.at(-1);
        assert.equal(input.runId, "input-run-1");
        assert.deepEqual(input.messages.map((m) => m.content), ["Plan my trip"]);
        assert.deepEqual(input.tools.map((t) => t.name), ["book"]);
        assert.deepEqual(input.context, [{ description: "home", value: "Oslo" }]);
        assert.deepEqual(input.state, { budget: 900 });
        assert.deepEqual(input.forwardedProps, { tier: "gold" });
        assert.deepEqual(copy.state, { budget: 900, tools: ["book"], context: ["Oslo"], forwarded: { tier: "gold" } });
        assert.deepEqual(await agent.getCapabilities(), { tools: { supported: true },
          transport: { websocket: true, streaming: true, resumable: true } });

        // An input the server would refuse (over --max-message-bytes) fails the run before anything is sent.
        const big = new AgentWireAgent({ url: server.agUi, token: () => token("input-user"), WebSocketImpl: WebSocket,
          threadId: "th-input", initialMessages: [{ id: "u2", role: "user", content: "x".repeat(70_000) }] });
        await assert.rejects(big.runAgent({ runId: "input-run-2" }), (e) => e.code === "input_too_large");
        assert.equal(runtime.inputs.length, 1);
      } finally {
        runtime.close();
      }
    });

  test("should show a pending interrupt to a second connection, which answers it with resume[]", async () => {
    const runtime = await approvalRuntime(server);
    const agentFor = () => new AgentWireAgent({
      url: server.agUi, token: () => token("hitl-user"), WebSocketImpl: WebSocket, threadId: "th-hitl",
      initialMessages: [{ id: "u1", role: "user", content: "Get me to Bergen" }],
    });
    try {
      const first = agentFor();
      const asked = [];
      await first.runAgent({ runId: "ask" }, { onEvent: ({ event }) => { asked.push(event); } });
      assert.equal(asked.at(-1).outcome.type, "interrupt");
      assert.deepEqual(first.pendingInterrupts.map((i) => i.id), ["approve-booking"]);

      // A second tab opens after the interrupt: its prelude shows the run that waits, and its interrupt.
      const second = agentFor();
      const joined = [];
      await second.connectAgent({}, { onEvent: ({ event }) => { joined.push(event); } });
      assert.deepEqual(joined.map((e) => e.type), ["RUN_STARTED", "RUN_FINISHED"]);
      assert.ok(joined.every((e) => e.metadata.agentwire.prelude));
      assert.deepEqual(second.pendingInterrupts.map((i) => i.id), ["approve-booking"]);
      assertAgUi(joined);
      await verifyRun(joined);

      // A front end that sends without answering (a plain user_message on the thread) is refused by the server:
      // nothing else runs on the thread while it waits.
      // (On the plain protocol's socket: a third cursor-less /v1/ag-ui connect within a second is rate limited.)
      const plain = rawSocket(server.ws, "hitl-user");
      try {
        await plain.opened;
        await plain.until((f) => f.some((e) => e.type === "welcome"));
        plain.send({ type: "user_message", thread_id: "th-hitl", data: { text: "and a hotel?" } });
        await plain.until((f) => f.some((e) => e.type === "error"));
        assert.equal(plain.frames.find((e) => e.type === "error").code, "interrupt_open");
      } finally {
        plain.close();
      }
      assert.equal(runtime.inputs.length, 1);

      // It answers: the runtime gets the answer in the next run's input and acts on it.
      await second.runAgent({ runId: "answer", resume: [{ interruptId: "approve-booking", status: "resolved",
        payload: { seat: "3C" } }] });
      // The first tab, which has not seen the answer, answers too: the server refuses it (answered once).
      await assert.rejects(first.runAgent({ runId: "answer-again", resume: [{ interruptId: "approve-booking",
        status: "resolved", payload: { seat: "9F" } }] }), (e) => e.code === "interrupt_unknown");
      assert.equal(runtime.inputs.length, 2, "the runtime got the one answer");
      assert.deepEqual(runtime.inputs.at(-1).resume.map((r) => r.status), ["resolved"]);
      assert.equal(second.messages.at(-1).content, 'Booked: {"seat":"3C"}');

      // Answered: a third tab sees nothing waiting.
      const third = agentFor();
      const later = [];
      await third.connectAgent({}, { onEvent: ({ event }) => { later.push(event); } });
      assert.deepEqual(later, []);
      assert.deepEqual(third.pendingInterrupts, []);
    } finally {
      runtime.close();
    }
  });

  test("should stream an answer token by token (agent_answer) as one assistant message, not repeated at the end", async () => {
    const runtime = await producerRuntime(server, { stepMs: 10, streamAnswer: true });
    let epoch;
    try {
      const agent = new AgentWireAgent({
        url: server.agUi, token: () => token("streamer"), WebSocketImpl: WebSocket, threadId: "th-stream",
        initialMessages: [{ id: "u1", role: "user", content: "Weather in Oslo?" }],
      });
      const received = [];
      await agent.runAgent({ runId: "streamed" }, { onEvent: ({ event }) => { received.push(event); } });
      epoch = received.find((e) => e.metadata?.agentwire?.epoch).metadata.agentwire.epoch;
      const answers = agent.messages.filter((m) => m.role === "assistant" && typeof m.content === "string");
      assert.deepEqual(answers.map((m) => m.content), ["3 degrees and snow in Oslo (streamed)"],
        "one assistant message, whole, once");
      assert.equal(answers[0].id, "streamed", "the run's answer message is named by the run");
      assert.ok(received.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length >= 6, "streamed in deltas");
      assert.deepEqual(runtime.nacks, []);
    } finally {
      runtime.close();
    }
    // On the wire: one TEXT_MESSAGE_CHUNK per delta (each whole by itself), a RUN_FINISHED without a repeat.
    const socket = rawSocket(`${server.agUi}?epoch=${epoch}&after=0`, "streamer");
    try {
      await socket.until((f) => f.some((e) => e.type === "RUN_FINISHED"));
      const run = socket.frames.filter((e) => e.metadata?.agentwire?.runId === "streamed");
      assert.equal(run.filter((e) => e.type === "TEXT_MESSAGE_CHUNK").length, 7); // "3 ", "degrees ", … "(streamed)"
      assert.equal(run.filter((e) => e.type === "TEXT_MESSAGE_START").length, 0);
      assertAgUi(run);
      await verifyRun(run);
    } finally {
      socket.close();
    }
  });

  test("should stop a run with abortRun(): the runtime is told, and the run ends cancelled, not cut", async () => {
    const runtime = await agUiRuntime(server, { deltas: ["one ", "two ", "three ", "four ", "five "], stepMs: 150 });
    try {
      const agent = new AgentWireAgent({
        url: server.agUi, token: () => token("stopper"), WebSocketImpl: WebSocket, threadId: "th-stop",
        initialMessages: [{ id: "u1", role: "user", content: "count slowly" }],
      });
      const events = [];
      const running = agent.runAgent({ runId: "to-stop" }, { onEvent: ({ event }) => {
        events.push(event);
        if (event.type === "TEXT_MESSAGE_CONTENT" && events.filter((e) => e.type === event.type).length === 1) {
          agent.abortRun();
        }
      } });
      await running;
      assert.deepEqual(runtime.cancels, ["to-stop"]);
      assert.deepEqual(events.at(-1).outcome, { type: "cancelled" });
      assert.ok(events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length < 6, "it stopped early");
      assertAgUi(events);
      await verifyRun(events);
    } finally {
      runtime.close();
    }
  });

  test("should run an AgentWireAgent against a real runtime, and re-attach with connect() after a detach", async () => {
    const runtime = await producerRuntime(server, { stepMs: 40 });
    try {
      const agent = new AgentWireAgent({
        url: server.agUi, token: () => token("agent-user"), WebSocketImpl: WebSocket, threadId: "th-agent",
        initialMessages: [{ id: "u1", role: "user", content: "Weather in Oslo?" }],
      });
      const types = [];
      const result = await agent.runAgent({ runId: "agent-run-1" }, { onEvent: ({ event }) => types.push(event.type) });
      assert.equal(types[0], "RUN_STARTED");
      assert.equal(types.at(-1), "RUN_FINISHED");
      const answer = result.newMessages.find((m) => m.role === "assistant" && typeof m.content === "string" &&
        m.content.includes("agent-run-1"));
      assert.ok(answer, JSON.stringify(result.newMessages));

      // Detach midway (the socket goes), then connect(): the same run, resumed by cursor, verified again whole.
      agent.messages.push({ id: "u2", role: "user", content: "And tomorrow?" });
      const firstPart = [];
      const running = agent.runAgent({ runId: "agent-run-2" }, { onEvent: ({ event }) => firstPart.push(event.type) });
      await waitFor(() => firstPart.includes("TOOL_CALL_START"));
      await agent.detachActiveRun();
      await running;
      assert.ok(!firstPart.includes("RUN_FINISHED"));
      const secondPart = [];
      await agent.connectAgent({}, { onEvent: ({ event }) => secondPart.push(event) });
      assert.equal(secondPart[0].type, "RUN_STARTED");
      assert.equal(secondPart[0].runId, "agent-run-2");
      assert.equal(secondPart.at(-1).type, "RUN_FINISHED");
      assert.equal(secondPart.filter((e) => e.type === "RUN_STARTED").length, 1);
    } finally {
      runtime.close();
    }
  });

  test("should reject runAgent() with a typed error when the server refuses the token, without retrying", async () => {
    const statuses = [];
    const errors = [];
    const agent = new AgentWireAgent({
      url: server.agUi, token: () => "not-a-token", WebSocketImpl: WebSocket, threadId: "th-refused",
      initialBackoffMs: 10, maxBackoffMs: 20,
      onStatus: (s) => statuses.push(s.state), onError: (e) => errors.push(e.code),
    });
    const started = Date.now();
    await assert.rejects(agent.runAgent({ runId: "refused-run" }), (error) => {
      assert.ok(error instanceof AgentWireError, String(error));
      assert.equal(error.code, "unauthorized");
      return true;
    });
    assert.ok(Date.now() - started < 5_000, "a 401 is not retried like a network drop");
    // The application hears it too, through the agent: the refusal and the socket that failed.
    assert.deepEqual(errors, ["unauthorized"]);
    assert.equal(statuses.at(-1), "failed", String(statuses));
    await waitFor(() => server.log().includes("upgrade refused: reason=token"), 10_000);
    assert.ok(!server.log().includes("not-a-token"), "the server never logs the token");
  });

  test("should say when the token source fails, and give up after a bounded number of attempts", async () => {
    const errors = [];
    const statuses = [];
    let calls = 0;
    const client = new AgentWireClient({
      url: server.ws, WebSocketImpl: WebSocket, initialBackoffMs: 5, maxBackoffMs: 10, maxConnectAttempts: 3,
      token: () => { calls++; throw new Error("backend down"); },
      onError: (e) => errors.push(e),
      onStatus: (s) => statuses.push(s.state),
    });
    client.connect();
    await waitFor(() => statuses.includes("failed"), 10_000);
    assert.equal(calls, 3);
    assert.deepEqual(errors.map((e) => e.code), ["token_failed", "token_failed", "token_failed", "connect_failed"]);
    assert.match(errors[0].message, /backend down/);
    client.close();
  });

  test("should re-attach a fresh agent (a reloaded page) to the thread's run through the prelude", async () => {
    const user = "reload";
    const script = scriptedRun(user, "reload-run", "th-reload");
    await publish(server, script.slice(0, 3));
    const agent = new AgentWireAgent({
      url: server.agUi, token: () => token(user), WebSocketImpl: WebSocket, threadId: "th-reload",
    });
    const events = [];
    const attached = agent.connectAgent({}, { onEvent: ({ event }) => events.push(event) });
    await waitFor(() => events.length > 0);
    await publish(server, script.slice(3));
    await attached;
    assert.equal(events[0].type, "RUN_STARTED");
    assert.equal(events[0].metadata.agentwire.prelude, true);
    assert.equal(events.at(-1).type, "RUN_FINISHED");
    await verifyRun(events);

    // Nothing running in the thread: connect() completes at once with nothing.
    const idle = new AgentWireAgent({ url: server.agUi, token: () => token(user), WebSocketImpl: WebSocket,
      threadId: "th-idle" });
    const none = [];
    await idle.connectAgent({}, { onEvent: ({ event }) => none.push(event) });
    assert.deepEqual(none, []);
  });

  test("should deliver native AG-UI runs as sent, verifying, and refuse invalid ones with nothing delivered", async () => {
    const user = "native";
    const socket = rawSocket(server.agUi, user);
    await socket.opened;
    await socket.until((f) => f.some((m) => m.name === "agentwire.live"));
    const run = (runId) => [
      { type: "RUN_STARTED", threadId: "th-native", runId },
      { type: "REASONING_START", messageId: `${runId}-r` },
      { type: "REASONING_MESSAGE_START", messageId: `${runId}-rm`, role: "reasoning" },
      { type: "REASONING_MESSAGE_CONTENT", messageId: `${runId}-rm`, delta: "Two lookups at once" },
      { type: "REASONING_MESSAGE_END", messageId: `${runId}-rm` },
      { type: "REASONING_END", messageId: `${runId}-r` },
      { type: "TOOL_CALL_START", toolCallId: `${runId}-a`, toolCallName: "forecast" },
      { type: "TOOL_CALL_START", toolCallId: `${runId}-b`, toolCallName: "alerts" },
      { type: "TOOL_CALL_ARGS", toolCallId: `${runId}-a`, delta: "{\"city\":\"Oslo\"}" },
      { type: "TOOL_CALL_END", toolCallId: `${runId}-b` },
      { type: "TOOL_CALL_END", toolCallId: `${runId}-a` },
      { type: "TOOL_CALL_RESULT", messageId: `${runId}-ra`, toolCallId: `${runId}-a`, content: "3 degrees" },
      { type: "TOOL_CALL_RESULT", messageId: `${runId}-rb`, toolCallId: `${runId}-b`, content: "error: unavailable" },
      { type: "TEXT_MESSAGE_START", messageId: `${runId}-m`, role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: `${runId}-m`, delta: "3 degrees in Oslo" },
      { type: "TEXT_MESSAGE_END", messageId: `${runId}-m` },
      { type: "RUN_FINISHED", threadId: "th-native", runId },
    ];
    const good = run("native-1");
    // In two batches: the second continues the run by its id.
    assert.equal((await publishAgUi(server, { user, events: good.slice(0, 8) })).status, 202);
    assert.equal((await publishAgUi(server, { user, runId: "native-1", events: good.slice(8) })).status, 202);

    // Invalid sequences, refused whole and naming the rule: nothing of them may reach the socket.
    const bad = [
      [{ type: "TEXT_MESSAGE_CONTENT", messageId: "x", delta: "orphan" }],
      [...run("native-bad").slice(0, 7), { type: "RUN_FINISHED", threadId: "th-native", runId: "native-bad" }],
      [good[0]],
    ];
    const rules = [];
    for (const events of bad) {
      const answer = await publishAgUi(server, { user, events });
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
      rules.push(answer.body.rule);
    }
    assert.deepEqual(rules, ["run_not_started", "run_has_open_parts", "run_finished"]);
    assert.equal((await publishAgUi(server, { user, events: run("native-2") })).status, 202);
    await socket.until((f) => ended(byRun(f).get("native-2") ?? []));
    socket.close();

    assertAgUi(socket.frames);
    const runs = byRun(socket.frames);
    assert.deepEqual([...runs.keys()], ["native-1", "native-2"], "nothing of the refused batches was delivered");
    for (const [runId, events] of runs) {
      assert.equal(events.length, good.length, runId);
      await verifyRun(events);
      events.forEach((e, i) => assert.equal(e.type, good[i].type));
    }
  });

  test("should join a native run mid-message, and re-attach by cursor with the open parts opened again", async () => {
    const user = "midmsg";
    const start = [
      { type: "RUN_STARTED", threadId: "th-mid", runId: "nm-1" },
      { type: "STEP_STARTED", stepName: "answer" },
      { type: "TEXT_MESSAGE_START", messageId: "m1", role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "It is " },
    ];
    assert.equal((await publishAgUi(server, { user, events: start })).status, 202);

    // A reloaded page: a fresh agent joins mid-message through the prelude.
    const agent = new AgentWireAgent({ url: server.agUi, token: () => token(user), WebSocketImpl: WebSocket,
      threadId: "th-mid" });
    const first = [];
    const attached = agent.connectAgent({}, { onEvent: ({ event }) => first.push(event) });
    await waitFor(() => first.length >= 3);
    assert.deepEqual(first.map((e) => e.type), ["RUN_STARTED", "STEP_STARTED", "TEXT_MESSAGE_START"]);
    assert.ok(first.every((e) => e.metadata.agentwire.prelude));
    assert.equal((await publishAgUi(server, { user, runId: "nm-1", events: [
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: "3 degrees" }] })).status, 202);
    await waitFor(() => first.length >= 4);
    await agent.detachActiveRun();
    await attached;

    // While detached the message goes on and ends; connect() picks it up by cursor, opening the run, the step and
    // the message again first, so its own verifyEvents pipeline accepts the rest.
    assert.equal((await publishAgUi(server, { user, runId: "nm-1", events: [
      { type: "TEXT_MESSAGE_CONTENT", messageId: "m1", delta: " in Oslo" },
      { type: "TEXT_MESSAGE_END", messageId: "m1" },
      { type: "STEP_FINISHED", stepName: "answer" },
      { type: "RUN_FINISHED", threadId: "th-mid", runId: "nm-1" }] })).status, 202);
    const second = [];
    await agent.connectAgent({}, { onEvent: ({ event }) => second.push(event) });
    assert.deepEqual(second.map((e) => e.type), ["RUN_STARTED", "STEP_STARTED", "TEXT_MESSAGE_START",
      "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "STEP_FINISHED", "RUN_FINISHED"]);
    assert.equal(second[3].delta, " in Oslo", "resumed after the cursor: nothing it had is sent again");
    assertAgUi(first);
    assertAgUi(second);
    await verifyRun(first);
    await verifyRun(second);
  });
});
