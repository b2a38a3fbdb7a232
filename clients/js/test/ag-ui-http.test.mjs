// AG-UI's HTTP agent endpoint (POST /v1/ag-ui/run, GET /v1/ag-ui/runs/{runId}) against the real server jar, driven
// by the stock HttpAgent of @ag-ui/client 1.0.0 with nothing but url and headers, and by a raw SSE reader that cuts
// streams and continues them with Last-Event-ID. Every event through @ag-ui/core's EventSchemas, every run through
// @ag-ui/client's verifyEvents.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { HttpAgent } from "@ag-ui/client";
import {
  agUiRuntime, approvalRuntime, assertAgUi, producerRuntime, publishAgUi, startServer, token, verifyRun,
} from "./harness.mjs";

/** Reads an SSE response: each event's id and parsed data, until the stream ends or `stopAfter` events. */
async function readSse(response, stopAfter = Infinity, abort = null) {
  const events = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body.getReader();
  try {
    while (events.length < stopAfter) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0 && events.length < stopAfter) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = null;
        let data = null;
        for (const line of block.split("\n")) {
          if (line.startsWith("id: ")) {
            id = line.slice(4);
          } else if (line.startsWith("data: ")) {
            data = JSON.parse(line.slice(6));
          }
        }
        if (data) {
          events.push({ id, data });
        }
      }
    }
  } finally {
    if (events.length >= stopAfter) {
      abort?.abort();
      await reader.cancel().catch(() => {});
    }
  }
  return events;
}

describe("POST /v1/ag-ui/run (AG-UI's HTTP agent endpoint)", { timeout: 180_000 }, () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.stop(); });

  test("should run the stock HttpAgent with the whole RunAgentInput reaching the runtime", async () => {
    const runtime = await agUiRuntime(server);
    try {
      const agent = new HttpAgent({
        url: `${server.http}/v1/ag-ui/run`,
        headers: { Authorization: `Bearer ${token("http-user")}` },
        threadId: "th-http",
        initialMessages: [{ id: "u1", role: "user", content: "What is 17*23?" }],
        initialState: { units: "metric" },
      });
      const seen = [];
      const result = await agent.runAgent({
        runId: "http-run-1",
        tools: [{ name: "calculator", description: "computes", parameters: { type: "object", properties: {} } }],
        context: [{ description: "locale", value: "nb-NO" }],
        forwardedProps: { plan: "pro" },
      }, { onEvent: ({ event }) => { seen.push(event); } });

      const input = runtime.inputs.at(-1);
      assert.equal(input.runId, "http-run-1");
      assert.equal(input.threadId, "th-http");
      assert.deepEqual(input.messages.map((m) => m.content), ["What is 17*23?"]);
      assert.deepEqual(input.tools.map((t) => t.name), ["calculator"]);
      assert.deepEqual(input.context, [{ description: "locale", value: "nb-NO" }]);
      assert.deepEqual(input.state, { units: "metric" });
      assert.deepEqual(input.forwardedProps, { plan: "pro" });

      assert.deepEqual(agent.state, { units: "metric", tools: ["calculator"], context: ["nb-NO"],
        forwarded: { plan: "pro" } });
      const answer = agent.messages.find((m) => m.id === "http-run-1-answer");
      assert.equal(answer.content, "You said: What is 17*23?");
      assert.ok(result.newMessages.some((m) => m.id === "http-run-1-answer"));
      assert.equal(seen[0].type, "RUN_STARTED");
      assert.equal(seen.at(-1).type, "RUN_FINISHED");
      assertAgUi(seen);
      await verifyRun(seen);
      assert.deepEqual(runtime.nacks, []);
    } finally {
      runtime.close();
    }
  });

  test("should answer RUN_ERROR, not hang, when no runtime serves the thread", async () => {
    const agent = new HttpAgent({
      url: `${server.http}/v1/ag-ui/run`,
      headers: { Authorization: `Bearer ${token("lonely-user")}` },
      threadId: "th-none",
      initialMessages: [{ id: "u1", role: "user", content: "anyone?" }],
    });
    const errors = [];
    await agent.runAgent({ runId: "orphan" }, { onRunErrorEvent: ({ event }) => { errors.push(event); } })
      .catch(() => {});
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, "no_agent");
    assertAgUi(errors);
    await verifyRun(errors);
  });

  test("should refuse a missing or bad token with 401 and a bad input with 400", async () => {
    const post = (headers, body) => fetch(`${server.http}/v1/ag-ui/run`, { method: "POST", headers, body });
    assert.equal((await post({ "Content-Type": "application/json" }, "{}")).status, 401);
    assert.equal((await post({ Authorization: "Bearer nope" }, "{}")).status, 401);
    const bad = await post({ Authorization: `Bearer ${token("u")}` }, JSON.stringify({ threadId: "t" }));
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /runId/);
  });

  test("should continue 50 cut streams with Last-Event-ID: no gap, no duplicate, every run whole", async () => {
    const runtime = await producerRuntime(server, { stepMs: 5 });
    try {
      for (let i = 0; i < 50; i++) {
        // A user per run: each user may open 10 streams a second (burst 20), as it may open sockets.
        const user = `cutter-${i}`;
        const auth = { Authorization: `Bearer ${token(user)}` };
        const runId = `cut-${i}`;
        const abort = new AbortController();
        const first = await fetch(`${server.http}/v1/ag-ui/run`, {
          method: "POST", signal: abort.signal, headers: { ...auth, "Content-Type": "application/json" },
          body: JSON.stringify({ threadId: "th-cut", runId, state: {}, tools: [], context: [], forwardedProps: {},
            messages: [{ id: `m-${i}`, role: "user", content: "Weather?" }] }),
        });
        assert.equal(first.status, 200);
        assert.match(first.headers.get("content-type"), /^text\/event-stream/);
        // The scripted run is 8 AgentWire events, 23 AG-UI events: cut anywhere before its end, also between parts.
        const cutAt = 1 + Math.floor(Math.random() * 22);
        const head = await readSse(first, cutAt, abort);
        assert.equal(head.length, cutAt);
        const last = head.at(-1).id;
        // Half of the reconnects carry the token in the query, as an EventSource (which sets no headers) does.
        const continued = await fetch(i % 2 === 0
          ? `${server.http}/v1/ag-ui/runs/${runId}`
          : `${server.http}/v1/ag-ui/runs/${runId}?access_token=${token(user)}`,
        { headers: i % 2 === 0 ? { ...auth, "Last-Event-ID": last } : { "Last-Event-ID": last } });
        assert.equal(continued.status, 200);
        const whole = [...head, ...await readSse(continued)];
        // The run as history holds it, read whole afterwards: the cut and continued stream is exactly that.
        const again = await fetch(`${server.http}/v1/ag-ui/runs/${runId}`, { headers: auth });
        assert.equal(again.status, 200);
        const reference = await readSse(again);
        assert.deepEqual(whole.map((e) => e.id), reference.map((e) => e.id), `run ${i} cut after ${cutAt}`);
        assert.deepEqual(whole.map((e) => e.data), reference.map((e) => e.data));
        assert.equal(whole.length, 23, `run ${i}`);
        assert.equal(whole.at(-1).data.type, "RUN_FINISHED");
        assertAgUi(whole.map((e) => e.data));
        await verifyRun(whole.map((e) => e.data));
      }
    } finally {
      runtime.close();
    }
  });

  test("should say so when history no longer covers the cursor", async () => {
    const auth = { Authorization: `Bearer ${token("cutter-0")}` };
    const answer = await fetch(`${server.http}/v1/ag-ui/runs/cut-0`, { headers: { ...auth, "Last-Event-ID": "1:1:0" } });
    assert.equal(answer.status, 200);
    const events = await readSse(answer, 1);
    assert.equal(events[0].data.type, "CUSTOM");
    assert.equal(events[0].data.name, "agentwire.resumed");
    assert.equal(events[0].data.value.recovered, false);
  });

  test("should cancel a run only when asked: POST .../cancel ends it cancelled, a dropped stream does not", async () => {
    const runtime = await agUiRuntime(server, { deltas: Array(40).fill("."), stepMs: 25 });
    const user = "canceller";
    const auth = { Authorization: `Bearer ${token(user)}` };
    const start = (runId) => fetch(`${server.http}/v1/ag-ui/run`, {
      method: "POST", headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ threadId: "th-cancel", runId, state: {}, tools: [], context: [], forwardedProps: {},
        messages: [{ id: `m-${runId}`, role: "user", content: "Count slowly" }] }),
    });
    try {
      // Cancelled on purpose: the runtime is told, the stream ends with RUN_FINISHED cancelled, and it verifies.
      const stream = start("to-cancel");
      const response = await stream;
      const reading = readSse(response);
      await new Promise((r) => setTimeout(r, 200));
      const cancel = await fetch(`${server.http}/v1/ag-ui/runs/to-cancel/cancel`, { method: "POST", headers: auth });
      assert.equal(cancel.status, 202);
      const events = (await reading).map((e) => e.data);
      assert.deepEqual(runtime.cancels, ["to-cancel"]);
      assert.deepEqual(events.at(-1).outcome, { type: "cancelled" });
      assert.ok(events.filter((e) => e.type === "TEXT_MESSAGE_CONTENT").length < 40, "it stopped early");
      assertAgUi(events);
      await verifyRun(events);

      // Dropped, not cancelled: the runtime is told nothing and the run goes on to its end, in history.
      const abort = new AbortController();
      const dropped = await fetch(`${server.http}/v1/ag-ui/run`, {
        method: "POST", signal: abort.signal, headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ threadId: "th-cancel", runId: "dropped", state: {}, tools: [], context: [],
          forwardedProps: {}, messages: [{ id: "m-dropped", role: "user", content: "Count slowly" }] }),
      });
      await readSse(dropped, 3, abort);
      const whole = await readSse(await fetch(`${server.http}/v1/ag-ui/runs/dropped`, { headers: auth }));
      assert.equal(whole.at(-1).data.type, "RUN_FINISHED");
      assert.equal(whole.at(-1).data.outcome, undefined, "finished, not cancelled");
      assert.deepEqual(runtime.cancels, ["to-cancel"]);

      // No runtime to tell: a clear refusal.
      runtime.close();
      await new Promise((r) => setTimeout(r, 200));
      const orphan = await fetch(`${server.http}/v1/ag-ui/runs/nobody/cancel`, { method: "POST", headers: auth });
      assert.equal(orphan.status, 503);
      assert.equal((await orphan.json()).error.code, "no_agent");
    } finally {
      runtime.close();
    }
  });

  test("should carry AG-UI 1.0's whole event set, natively published, through the rules and out as sent", async () => {
    const t = "th-all";
    const r = "all-types";
    const events = [
      { type: "RUN_STARTED", threadId: t, runId: r },
      { type: "STEP_STARTED", stepName: "plan" },
      { type: "REASONING_START", messageId: "rs1" },
      { type: "REASONING_MESSAGE_START", messageId: "rs1", role: "reasoning" },
      { type: "REASONING_MESSAGE_CONTENT", messageId: "rs1", delta: "thinking" },
      { type: "REASONING_MESSAGE_END", messageId: "rs1" },
      { type: "REASONING_MESSAGE_CHUNK", messageId: "rs2", delta: "more" },
      { type: "REASONING_ENCRYPTED_VALUE", subtype: "message", entityId: "rs1", encryptedValue: "opaque" },
      { type: "REASONING_END", messageId: "rs1" },
      { type: "STATE_SNAPSHOT", snapshot: { step: 1 } },
      { type: "STATE_DELTA", delta: [{ op: "replace", path: "/step", value: 2 }] },
      { type: "ACTIVITY_SNAPSHOT", messageId: "act1", activityType: "progress", content: { done: 1 } },
      { type: "ACTIVITY_DELTA", messageId: "act1", activityType: "progress",
        patch: [{ op: "replace", path: "/done", value: 2 }] },
      { type: "TEXT_MESSAGE_CHUNK", messageId: "tm1", role: "assistant", delta: "Hel" },
      { type: "TOOL_CALL_CHUNK", toolCallId: "tc1", toolCallName: "calc", delta: "{}" },
      { type: "TOOL_CALL_RESULT", messageId: "tr1", toolCallId: "tc1", content: "391" },
      { type: "MESSAGES_SNAPSHOT", messages: [{ id: "u1", role: "user", content: "17*23?" }] },
      { type: "SUBAGENT_STARTED", subagentRunId: "sub1", name: "helper" },
      { type: "SUBAGENT_FINISHED", subagentRunId: "sub1" },
      { type: "RAW", event: { vendor: "x" } },
      { type: "CUSTOM", name: "app.note", value: { n: 1 } },
      { type: "STEP_FINISHED", stepName: "plan" },
      { type: "RUN_FINISHED", threadId: t, runId: r },
    ];
    const published = await publishAgUi(server, { user: "all-types-user", events });
    assert.equal(published.status, 202, JSON.stringify(published.body));
    const answer = await fetch(`${server.http}/v1/ag-ui/runs/${r}`,
      { headers: { Authorization: `Bearer ${token("all-types-user")}` } });
    const delivered = (await readSse(answer)).map((e) => e.data);
    assert.deepEqual(delivered.map((e) => e.type), events.map((e) => e.type));
    for (let i = 0; i < events.length; i++) {
      const { metadata, ...sent } = delivered[i];
      assert.deepEqual(sent, events[i], `event ${i} arrives as sent`);
      assert.equal(metadata.agentwire.runId, r);
    }
    assertAgUi(delivered);
    await verifyRun(delivered);
  });

  test("should carry an interrupt and its answer: RUN_FINISHED interrupt, then resume[] in the next input", async () => {
    const runtime = await approvalRuntime(server);
    try {
      const agent = new HttpAgent({
        url: `${server.http}/v1/ag-ui/run`,
        headers: { Authorization: `Bearer ${token("approver")}` },
        threadId: "th-approve",
        initialMessages: [{ id: "u1", role: "user", content: "Get me to Bergen" }],
      });
      const first = [];
      await agent.runAgent({ runId: "ask" }, { onEvent: ({ event }) => { first.push(event); } });
      assert.equal(first.at(-1).outcome.type, "interrupt");
      assert.deepEqual(agent.pendingInterrupts.map((i) => i.id), ["approve-booking"]);
      await verifyRun(first);

      // The thread waits. The stock client checks its own resume[] against what it saw; the server holds every
      // front end to it, including one that never saw the interrupt (another tab, another client): an input that
      // does not answer every interrupt, exactly, never reaches the runtime, and the stream says why.
      const refusal = async (runId, resume) => {
        const response = await fetch(`${server.http}/v1/ag-ui/run`, { method: "POST",
          headers: { Authorization: `Bearer ${token("approver")}`, "Content-Type": "application/json" },
          body: JSON.stringify({ threadId: "th-approve", runId, messages: [], tools: [], context: [], state: {},
            forwardedProps: {}, ...(resume ? { resume } : {}) }) });
        assert.equal(response.status, 200);
        const events = (await readSse(response)).map((e) => e.data);
        assert.deepEqual(events.map((e) => e.type), ["RUN_ERROR"], runId);
        assertAgUi(events);
        await verifyRun(events);
        return events[0].code;
      };
      assert.equal(await refusal("unanswered", undefined), "interrupt_open");
      assert.equal(await refusal("wrong-id", [{ interruptId: "approve-hotel", status: "resolved" }]),
        "interrupt_unknown");
      assert.equal(await refusal("bad-status", [{ interruptId: "approve-booking", status: "maybe" }]),
        "resume_invalid");
      const elsewhere = new HttpAgent({ url: `${server.http}/v1/ag-ui/run`,
        headers: { Authorization: `Bearer ${token("approver")}` }, threadId: "th-approve" });
      const errors = [];
      await elsewhere.runAgent({ runId: "other-tab" }, { onRunErrorEvent: ({ event }) => { errors.push(event); } })
        .catch(() => {});
      assert.deepEqual(errors.map((e) => e.code), ["interrupt_open"], "a stock HttpAgent that never saw it");
      assert.equal(runtime.inputs.length, 1, "only the first input reached the runtime");

      const second = [];
      await agent.runAgent({ runId: "answered", resume: [{ interruptId: "approve-booking", status: "resolved",
        payload: { seat: "12A" } }] }, { onEvent: ({ event }) => { second.push(event); } });
      assert.deepEqual(runtime.inputs.at(-1).resume, [{ interruptId: "approve-booking", status: "resolved",
        payload: { seat: "12A" } }]);
      assert.equal(agent.messages.at(-1).content, 'Booked: {"seat":"12A"}');
      assertAgUi(second);
      await verifyRun(second);

      // Answered once: the same answer again names nothing that waits, and a plain input runs.
      assert.equal(await refusal("again", [{ interruptId: "approve-booking", status: "resolved" }]),
        "interrupt_unknown");
      assert.equal(runtime.inputs.length, 2);
    } finally {
      runtime.close();
    }
  });

  test("should deliver a run larger than every buffer on the way to a client that starts reading late", async () => {
    const user = "late-reader";
    const runId = "big-run";
    const chunk = "x".repeat(60_000);
    const first = await publishAgUi(server, { user, events: [
      { type: "RUN_STARTED", threadId: "th-big", runId },
      { type: "TEXT_MESSAGE_START", messageId: "big", role: "assistant" }] });
    assert.equal(first.status, 202);
    // The stream opens on the run while it is running; the client then does not read for a while.
    const response = await fetch(`${server.http}/v1/ag-ui/runs/${runId}`,
      { headers: { Authorization: `Bearer ${token(user)}` } });
    assert.equal(response.status, 200);
    for (let batch = 0; batch < 10; batch++) {
      const events = Array.from({ length: 12 }, () => ({ type: "TEXT_MESSAGE_CONTENT", messageId: "big", delta: chunk }));
      const answer = await publishAgUi(server, { user, runId, events });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
    }
    await publishAgUi(server, { user, runId, events: [{ type: "TEXT_MESSAGE_END", messageId: "big" },
      { type: "RUN_FINISHED", threadId: "th-big", runId }] });
    await new Promise((r) => setTimeout(r, 1_000));
    const events = (await readSse(response)).map((e) => e.data);
    assert.equal(events.length, 2 + 120 + 2);
    assert.equal(events.at(-1).type, "RUN_FINISHED");
    await verifyRun(events);
  });

  test("should refuse a malformed Last-Event-ID with 400", async () => {
    const auth = { Authorization: `Bearer ${token("cutter-1")}` };
    const bad = await fetch(`${server.http}/v1/ag-ui/runs/cut-1`, { headers: { ...auth, "Last-Event-ID": "x" } });
    assert.equal(bad.status, 400);
  });
});
