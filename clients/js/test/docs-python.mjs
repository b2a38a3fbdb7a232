// The docs test's runner for Python blocks (docs.test.mjs says what each kind of block is): a block runs with
// Debian's /usr/bin/python3 (else python3), clients/python/src on PYTHONPATH and the demo's producer key, against a
// fresh demo; a block marked `example: python agent` is a runtime that serves prompts: it runs beside a plain server
// (the demo's own agent would take the prompts), a user asks it something on /v1/ws, and its run must arrive whole.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SECRET, WebSocket, freePort, token } from "./harness.mjs";

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** @returns the runner of Python blocks, given the docs test's own helpers. */
export function pythonRunner({ run, cleanEnv, startDemo, startServer, assertPromises, killGroup, started,
  PRODUCER_KEY, ROOT, PACKAGE }) {
  async function runPython(block) {
    const dir = join(PACKAGE, "target/docs-examples");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${block.file.replace(/[^A-Za-z0-9]+/g, "-")}-${block.line}.py`);
    const env = { PYTHONPATH: join(ROOT, "clients/python/src"), AGENTWIRE_PRODUCER_KEY: PRODUCER_KEY };
    if (block.directive === "python agent") {
      await runPythonAgent(block, file, env);
      return;
    }
    const demo = await startDemo();
    try {
      writeFileSync(file, block.code.replaceAll("127.0.0.1:8080", `127.0.0.1:${demo.port}`));
      const result = await run(PYTHON, [file], { cwd: dir, env: cleanEnv(env), timeoutMs: 60_000 });
      assert.equal(result.code, 0, `${block.file}:${block.line} exited ${result.code}:\n${result.output}`);
      assertPromises(block, result.output);
    } finally {
      await demo.stop();
    }
  }

  /** A runtime that serves prompts: beside a plain server, a user asks it something and must get its run whole. */
  async function runPythonAgent(block, file, env) {
    const port = await freePort();
    const server = await startServer(["serve", "--host", "127.0.0.1", "--port", String(port)], port,
      cleanEnv({ AGENTWIRE_JWT_SECRET: SECRET, AGENTWIRE_PRODUCER_KEY: PRODUCER_KEY }), ROOT);
    writeFileSync(file, block.code.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`));
    const agent = spawn(PYTHON, [file], { cwd: dirname(file), env: cleanEnv(env), detached: true,
      stdio: ["ignore", "pipe", "pipe"] });
    started.add(agent.pid);
    let log = "";
    agent.stdout.on("data", (d) => { log = (log + d).slice(-20_000); });
    agent.stderr.on("data", (d) => { log = (log + d).slice(-20_000); });
    const frames = [];
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?access_token=${token("docs-user")}`);
    socket.on("message", (data) => frames.push(JSON.parse(data.toString())));
    try {
      await new Promise((ok, fail) => { socket.once("open", ok); socket.once("error", fail); });
      // Until the runtime's producer socket is up, a prompt is answered no_agent: ask again.
      const deadline = Date.now() + 60_000;
      while (!frames.some((f) => f.type === "agent_started") && Date.now() < deadline) {
        socket.send(JSON.stringify({ type: "user_message", thread_id: "th-docs", run_id: `docs-${Date.now()}`,
          data: { text: "what is 17*23?" } }));
        await new Promise((r) => setTimeout(r, 500));
      }
      while (!frames.some((f) => f.type === "agent_completed") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const run = frames.filter((f) => f.type.startsWith("agent_") || f.type.startsWith("tool_"));
      assert.deepEqual(run.map((f) => f.type), ["agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_completed"], `${block.file}:${block.line}: the run the user got: ${JSON.stringify(frames).slice(0, 3000)}` +
        `\nthe runtime's output:\n${log}`);
      assert.equal(run.at(-1).data.outcome, "success");
    } finally {
      socket.close();
      killGroup(agent.pid, "SIGKILL");
      started.delete(agent.pid);
      await server.stop();
    }
  }

  return runPython;
}
