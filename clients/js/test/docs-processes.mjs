// The docs test's processes (docs.test.mjs says what each kind of block is): a block's commands run in process groups
// of their own, in a scratch directory that looks like the clone, with only what a fresh shell has in its
// environment; whatever a block or a server started here leaves running is stopped, however the test ends.

import { after } from "node:test";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(PACKAGE, "../..");

/** Only what a shell on a fresh machine has: no AGENTWIRE_* and no npm_* variables of the build that runs this. */
export function cleanEnv(extra) {
  const env = {};
  for (const key of ["PATH", "HOME", "USER", "LANG", "TMPDIR", "JAVA_HOME", "CI"]) {
    if (process.env[key] !== undefined) {
      env[key] = process.env[key];
    }
  }
  return { ...env, ...extra };
}

/** Runs a command in its own process group; resolves with its exit code and output (or kills it at the deadline). */
export function run(command, args, { cwd, env, timeoutMs, input }) {
  return new Promise((ok) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    started.add(child.pid);
    let output = "";
    child.stdout.on("data", (d) => { output = (output + d).slice(-40_000); });
    child.stderr.on("data", (d) => { output = (output + d).slice(-40_000); });
    const timer = setTimeout(() => {
      output += `\n[docs test: killed after ${timeoutMs} ms]`;
      killGroup(child.pid, "SIGKILL");
    }, timeoutMs);
    // On exit, not on close: what a block leaves running in the background (a server started with &) keeps the
    // output pipes open until it is stopped; its output so far is read a moment later.
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      setTimeout(() => ok({ code: code ?? signal, output, pid: child.pid }), 200);
    });
    child.stdin.end(input ?? "");
  });
}

/** Process groups started here and not stopped yet: stopped when this process ends, however it ends. */
export const started = new Set();
for (const event of ["exit", "SIGINT", "SIGTERM"]) {
  process.on(event, () => {
    for (const pid of started) {
      killGroup(pid, "SIGKILL");
    }
    if (event !== "exit") {
      process.exit(1);
    }
  });
}
// And after the file's tests, whatever failed: a server still running keeps its output pipes, and with them this
// process and the build, alive, so "when this process ends" would never come (a failed check of the demo's banner
// once held a CI build for half an hour that way).
after(() => {
  for (const pid of started) {
    killGroup(pid, "SIGKILL");
  }
});

export function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** Stops what a block left running: its process group, then whatever still works in its scratch directory. */
export async function stopLeftovers(pid, scratch) {
  killGroup(pid, "SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  killGroup(pid, "SIGKILL");
  started.delete(pid);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
      continue;
    }
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cwd.startsWith(scratch) || cmdline.includes(scratch)) {
        process.kill(Number(entry), "SIGKILL");
      }
    } catch {
      // not ours, or gone
    }
  }
}

/** A scratch directory that looks like the clone to a block (bin/agentwire finds the jar through it). */
export function scratchClone() {
  const scratch = mkdtempSync(join(tmpdir(), "agentwire-docs-"));
  for (const name of ["bin", "server", "core", "pom.xml"]) {
    symlinkSync(join(ROOT, name), join(scratch, name));
  }
  const copy = join(scratch, "clients/js");
  mkdirSync(copy, { recursive: true });
  for (const name of ["package.json", "package-lock.json", "tsconfig.json", "README.md", "src"]) {
    cpSync(join(PACKAGE, name), join(copy, name), { recursive: true });
  }
  mkdirSync(join(scratch, "etc/agentwire"), { recursive: true });
  return scratch;
}

async function waitReady(port, child, log, deadlineMs = 60_000) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`exited ${child.exitCode} before it was ready:\n${log()}`);
    }
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready in ${deadlineMs} ms:\n${log()}`);
}

/** Starts a server the way a block says (bin/agentwire with its arguments) and waits until it is ready. */
export async function startServer(args, port, env, cwd) {
  const child = spawn(join(cwd, "bin/agentwire"), args,
    { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  started.add(child.pid);
  child.once("exit", () => started.delete(child.pid));
  let log = "";
  child.stdout.on("data", (d) => { log = (log + d).slice(-20_000); });
  child.stderr.on("data", (d) => { log = (log + d).slice(-20_000); });
  await waitReady(port, child, () => log);
  return {
    port,
    log: () => log,
    stop: () => new Promise((ok) => {
      if (child.exitCode !== null) {
        ok();
        return;
      }
      child.once("exit", ok);
      killGroup(child.pid, "SIGTERM");
      setTimeout(() => killGroup(child.pid, "SIGKILL"), 10_000).unref();
    }),
  };
}
