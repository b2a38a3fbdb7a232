// The package tests' real parts: a real AgentWire server (the built jar, in its own JVM, on a free loopback port),
// real WebSockets (ws), tokens signed as a backend would, and AG-UI's own schemas and verifyEvents as the judge.

import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:net";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { EventSchemas } from "@ag-ui/core/schemas";
import { verifyEvents } from "@ag-ui/client";
import { from, lastValueFrom, toArray } from "rxjs";

export const SECRET = "package-test-secret-0123456789-0123456789";
export const PRODUCER_KEY = "package-test-producer-key-0123456789";
const here = dirname(fileURLToPath(import.meta.url));
const JAR = process.env.AGENTWIRE_JAR ?? resolve(here, "../../../server/target/agentwire.jar");

// Ports this process has handed out. Tests of a file may run at once (docs.test.mjs), and a port the kernel calls
// free stays free only until someone binds it: a test binds its port seconds later, once its server is up, so two
// tests must never be handed the same one.
const handedOut = new Set();

/** Marks a port as handed out by this process; false when it was already. */
export function claimPort(port) {
  if (handedOut.has(port)) {
    return false;
  }
  handedOut.add(port);
  return true;
}

/** A free loopback port (the probe's, closed again) that no other test of this process was handed. */
export async function freePort() {
  for (;;) {
    const port = await probePort();
    if (claimPort(port)) {
      return port;
    }
  }
}

function probePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.on("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

/** Starts the server jar and waits until /readyz answers 200 (at most 30 s). */
export async function startServer() {
  if (!existsSync(JAR)) {
    throw new Error(`no server jar at ${JAR}: build it first (mvn -B -ntp package -DskipTests) or set AGENTWIRE_JAR`);
  }
  const port = await freePort();
  const java = process.env.JAVA_HOME ? resolve(process.env.JAVA_HOME, "bin/java") : "java";
  const child = spawn(java, ["-jar", JAR, "serve", "--host", "127.0.0.1", "--port", String(port)], {
    env: { ...process.env, AGENTWIRE_JWT_SECRET: SECRET, AGENTWIRE_PRODUCER_KEY: PRODUCER_KEY,
      AGENTWIRE_PRODUCER_RATE: "100000", AGENTWIRE_PRODUCER_BURST: "100000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => { log = (log + d).slice(-20_000); });
  child.stderr.on("data", (d) => { log = (log + d).slice(-20_000); });
  const base = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`server exited ${child.exitCode}: ${log}`);
    }
    try {
      if ((await fetch(`http://${base}/readyz`)).status === 200) {
        return {
          http: `http://${base}`,
          agUi: `ws://${base}/v1/ag-ui`,
          ws: `ws://${base}/v1/ws`,
          producer: `ws://${base}/v1/producer`,
          log: () => log,
          stop: () => new Promise((ok) => {
            child.once("exit", ok);
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
          }),
        };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`server not ready in 30 s: ${log}`);
}

const b64url = (value) => Buffer.from(value).toString("base64url");

/** An HS256 token for a user, as the application's backend mints it. */
export function token(user, ttlMs = 600_000) {
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ sub: user, exp: Math.floor((Date.now() + ttlMs) / 1000) }));
  const signature = createHmac("sha256", SECRET).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

/** POST /v1/events with the producer key; returns the answer's status and body. */
export async function publish(server, events) {
  const response = await fetch(`${server.http}/v1/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${PRODUCER_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(events),
  });
  const body = await response.json();
  if (response.status !== 202) {
    throw new Error(`publish answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body;
}

/** POST /v1/ag-ui/events with the producer key; returns {status, body} whatever the answer. */
export async function publishAgUi(server, body) {
  const response = await fetch(`${server.http}/v1/ag-ui/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${PRODUCER_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** One run as AgentWire events: parallel tool calls, one of which fails, then the answer (or a failed run). */
export function scriptedRun(user, runId, threadId, { fail = false, toolError = true, streamAnswer = false } = {}) {
  const e = (type, data) => ({ user, type, run_id: runId, thread_id: threadId, data });
  const events = [
    e("agent_started", { agent: "weather" }),
    e("agent_thinking", { text: "Looking at the forecast and the alerts" }),
    e("tool_executing", { tool_call_id: `${runId}-c1`, tool: "forecast", args: { city: "Oslo" } }),
    e("tool_executing", { tool_call_id: `${runId}-c2`, tool: "alerts", args: { region: "NO" } }),
    toolError ? e("tool_completed", { tool_call_id: `${runId}-c2`, error: "alerts service unavailable" })
      : e("tool_completed", { tool_call_id: `${runId}-c2`, result: [] }),
    e("tool_completed", { tool_call_id: `${runId}-c1`, result: { temp: 3, sky: "snow" } }),
    e("agent_thinking", { text: "Writing the answer" }),
  ];
  const answer = `3 degrees and snow in Oslo (${runId})`;
  if (streamAnswer && !fail) {
    // The answer as the model writes it, token by token; the completion says it was streamed.
    for (const delta of answer.match(/\S+\s*/g)) {
      events.push(e("agent_answer", { text: delta }));
    }
    events.push(e("agent_completed", { outcome: "success", result: answer, streamed: true }));
    return events;
  }
  events.push(fail ? e("agent_completed", { outcome: "error", error: "model overloaded" })
    : e("agent_completed", { outcome: "success", result: answer }));
  return events;
}

/** A raw socket that records every frame (parsed) — no client logic between the server and the assertions. */
export function rawSocket(url, user) {
  const frames = [];
  const waiters = [];
  const socket = new WebSocket(`${url}${url.includes("?") ? "&" : "?"}access_token=${token(user)}`);
  socket.on("message", (data) => {
    frames.push(JSON.parse(data.toString()));
    waiters.splice(0).forEach((w) => w());
  });
  const opened = new Promise((ok, fail) => { socket.once("open", ok); socket.once("error", fail); });
  return {
    frames,
    opened,
    close: () => socket.close(),
    send: (message) => socket.send(JSON.stringify(message)),
    /** Waits (at most timeoutMs) until the condition holds on the frames received. */
    until: (condition, timeoutMs = 10_000) => waitFor(() => condition(frames), timeoutMs, waiters,
      () => `frames so far: ${JSON.stringify(frames).slice(0, 2000)}`),
  };
}

/** Waits for a condition, re-checked when a frame arrives and every 50 ms. */
export async function waitFor(condition, timeoutMs = 10_000, waiters = null, describe = () => "") {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms. ${describe()}`);
    }
    await new Promise((r) => {
      const t = setTimeout(r, 50);
      waiters?.push(() => { clearTimeout(t); r(); });
    });
  }
}

/** Every frame must be an AG-UI event that @ag-ui/core's schemas accept. */
export function assertAgUi(frames) {
  for (const frame of frames) {
    const parsed = EventSchemas.safeParse(frame);
    if (!parsed.success) {
      throw new Error(`not an AG-UI event: ${JSON.stringify(frame)}: ${JSON.stringify(parsed.error.issues)}`);
    }
  }
}

/** The events of each run, in order, by metadata.agentwire.runId. */
export function byRun(frames) {
  const runs = new Map();
  for (const frame of frames) {
    const runId = frame.metadata?.agentwire?.runId;
    if (runId) {
      if (!runs.has(runId)) {
        runs.set(runId, []);
      }
      runs.get(runId).push(frame);
    }
  }
  return runs;
}

/** A run's events must pass @ag-ui/client's verifyEvents, whole; returns what it let through. */
export async function verifyRun(events) {
  return lastValueFrom(from(events).pipe(verifyEvents(false), toArray()));
}

/**
 * Opens a producer socket and returns once the server takes messages on it. The client's "open" comes with the
 * 101 response, a moment before the server's I/O thread attaches the runtime (the upgrade listener runs after the
 * response is flushed): a user request in that moment is answered no_agent, which is right for the server and wrong
 * for a test that means "with a runtime". The server reads a frame only after attaching, so a ping's pong proves it.
 */
async function openProducer(server, query = "") {
  const socket = new WebSocket(server.producer + query, { headers: { Authorization: `Bearer ${PRODUCER_KEY}` } });
  await new Promise((ok, fail) => { socket.once("open", ok); socket.once("error", fail); });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("no pong from the producer socket in 10 s")), 10_000);
    socket.once("pong", () => { clearTimeout(timer); ok(); });
    socket.ping("attached?");
  });
  return socket;
}

/**
 * A runtime that confirms what it takes (`?confirm=true`) and dies, its socket reset, on the first user_message,
 * before confirming it. Resolves `died` with that message.
 */
export async function runtimeThatDies(server) {
  const socket = await openProducer(server, "?confirm=true");
  const died = new Promise((ok) => {
    socket.on("message", (data) => {
      const m = JSON.parse(data.toString());
      if (m.type === "user_message") {
        socket.terminate();
        ok(m);
      }
    });
  });
  return { died };
}

/** A runtime that takes users' messages and answers none: `inputs` holds what it took. */
export async function silentRuntime(server) {
  const socket = await openProducer(server);
  const inputs = [];
  socket.on("message", (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === "user_message") {
      inputs.push(m);
    }
  });
  return { inputs, close: () => socket.close() };
}

/**
 * An agent runtime on the producer socket, as a real one connects: answers each user_message with the scripted
 * run (run id the user's), one event every stepMs, acknowledged one by one.
 */
export async function producerRuntime(server, { stepMs = 30, streamAnswer = false } = {}) {
  const socket = await openProducer(server);
  const nacks = [];
  let ref = 0;
  socket.on("message", async (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === "nack") {
      nacks.push(m);
    }
    if (m.type !== "user_message") {
      return;
    }
    const runId = m.run_id ?? `run-${Date.now()}`;
    for (const event of scriptedRun(m.user, runId, m.thread_id, { streamAnswer })) {
      await new Promise((r) => setTimeout(r, stepMs));
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ ...event, ref: `r${++ref}` }));
      }
    }
  });
  return { nacks, close: () => socket.close() };
}

/**
 * A runtime on the producer socket that speaks native AG-UI: it answers each input with a state snapshot made from
 * what it was given (so the test sees the whole RunAgentInput arrived) and a streamed assistant message.
 */
export async function agUiRuntime(server, { deltas = ["You said: "], stepMs = 20 } = {}) {
  const socket = await openProducer(server);
  const inputs = [];
  const cancels = [];
  const nacks = [];
  let ref = 0;
  const send = (user, body) => socket.send(JSON.stringify({ ref: `a${++ref}`, ag_ui: { user, ...body } }));
  socket.on("message", async (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === "nack") {
      nacks.push(m);
    }
    if (m.type === "cancel") {
      cancels.push(m.run_id);
      return;
    }
    if (m.type !== "user_message" || !m.data?.input) {
      return;
    }
    const input = m.data.input;
    inputs.push(input);
    const { runId, threadId } = input;
    send(m.user, { events: [
      { type: "RUN_STARTED", threadId, runId },
      { type: "STATE_SNAPSHOT", snapshot: { ...input.state, tools: input.tools.map((t) => t.name),
        context: input.context.map((c) => c.value), forwarded: input.forwardedProps } },
      { type: "TEXT_MESSAGE_START", messageId: `${runId}-answer`, role: "assistant" },
    ] });
    for (const delta of [...deltas, m.data.text]) {
      await new Promise((r) => setTimeout(r, stepMs));
      if (cancels.includes(runId)) {
        // Told to stop: the message ends where it is, and the run ends cancelled (AG-UI 1.0's outcome).
        send(m.user, { runId, events: [
          { type: "TEXT_MESSAGE_END", messageId: `${runId}-answer` },
          { type: "RUN_FINISHED", threadId, runId, outcome: { type: "cancelled" } },
        ] });
        return;
      }
      send(m.user, { runId, events: [{ type: "TEXT_MESSAGE_CONTENT", messageId: `${runId}-answer`, delta }] });
    }
    await new Promise((r) => setTimeout(r, stepMs));
    send(m.user, { runId, events: [
      { type: "TEXT_MESSAGE_END", messageId: `${runId}-answer` },
      { type: "RUN_FINISHED", threadId, runId },
    ] });
  });
  return { inputs, cancels, nacks, close: () => socket.close() };
}

/**
 * A runtime that asks before it acts (AG-UI 1.0 human in the loop): a run without a resume ends with an interrupt
 * outcome asking to approve a booking; the next run's RunAgentInput.resume[] answers it, and the runtime acts on
 * the answer (or stops, when it was cancelled).
 */
export async function approvalRuntime(server) {
  const socket = await openProducer(server);
  const inputs = [];
  let ref = 0;
  const send = (user, body) => socket.send(JSON.stringify({ ref: `h${++ref}`, ag_ui: { user, ...body } }));
  socket.on("message", (data) => {
    const m = JSON.parse(data.toString());
    if (m.type !== "user_message" || !m.data?.input) {
      return;
    }
    const input = m.data.input;
    inputs.push(input);
    const { runId, threadId } = input;
    const answer = (input.resume ?? []).find((r) => r.interruptId === "approve-booking");
    if (!answer) {
      send(m.user, { events: [
        { type: "RUN_STARTED", threadId, runId },
        { type: "RUN_FINISHED", threadId, runId, outcome: { type: "interrupt", interrupts: [
          { id: "approve-booking", reason: "approval", message: "Book the 17:05 to Bergen?" }] } },
      ] });
      return;
    }
    const text = answer.status === "resolved" ? `Booked: ${JSON.stringify(answer.payload)}` : "Not booked.";
    send(m.user, { events: [
      { type: "RUN_STARTED", threadId, runId },
      { type: "TEXT_MESSAGE_START", messageId: `${runId}-m`, role: "assistant" },
      { type: "TEXT_MESSAGE_CONTENT", messageId: `${runId}-m`, delta: text },
      { type: "TEXT_MESSAGE_END", messageId: `${runId}-m` },
      { type: "RUN_FINISHED", threadId, runId },
    ] });
  });
  return { inputs, close: () => socket.close() };
}

export { WebSocket };
