// Every code block of the repository's docs runs as written: README.md, docs/*.md and clients/*/README.md. It lives
// with the client package because the Node toolchain (tsc, ws, @ag-ui/core) is here, and it runs after the server
// jar is built, which bin/agentwire starts.
//
// What a block is, is said by its fence's language, and where that is not enough by an HTML comment on the line
// before it (`<!-- example: … -->`, invisible when rendered):
//   bash        run by bash in a scratch directory that holds the clone's bin/, server/ and core/ and a copy of
//               clients/js (so a block may start servers and install packages without touching the clone); it must
//               exit 0 within 3 minutes, and what it started is stopped after it.
//   ts          type-checked by tsc and run by Node inside clients/js (so `import … from "agentwire-client"` is this
//               package), against a fresh `bin/agentwire demo`; it must exit 0 within a minute.
//   java        run by the JDK's source launcher with the server jar on the class path (the engine and its
//               dependencies); it must exit 0. A block of clients/java/README.md also has the producer client's
//               classes (compiled from its sources) and runs against a fresh `bin/agentwire demo`.
//   xml         a Maven dependency: its coordinates are those of one of this build's modules.
//   properties  a config file: `bin/agentwire serve --config` with it must come up ready.
//   json        parsed; `example: ag-ui event` is checked with @ag-ui/core's EventSchemas; `example: POST <path>
//               [after <json>]` is sent with the producer key to a fresh demo (after that event) and must be accepted.
//   python      run by Debian's /usr/bin/python3 (else python3) with clients/python/src on PYTHONPATH and the
//               demo's producer key, against a fresh `bin/agentwire demo`; it must exit 0 within a minute.
//               `example: python agent` marks a runtime that serves prompts until stopped: it runs beside a fresh
//               `bin/agentwire serve` (the demo's own agent would take the prompts), a user sends it a prompt on
//               /v1/ws, and its run must reach that user's socket whole.
//   text        an illustration (wire transcripts, drawings, log lines): never run. A fence without a language fails:
//               say which one it is.
//   `example: skip: <reason>` leaves a block out, with its reason in the test's name (only what cannot run inside
//   the build: the build itself). `example: demo` marks the block whose `bin/agentwire demo` line is how the demo
//   that the other examples run against is started.
// A block's comment lines `# -> text` / `// -> text` say what its output must contain (`..` stands for anything).
// Addresses and paths of the machine are the test's own: each port a doc uses (8080, 8081, 6379, 7001-7004) becomes
// a free loopback port (for ts and json blocks, 8080 is the demo's), AGENTWIRE_PORT is what 8080 became, and
// /etc/agentwire/ is the scratch directory.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { generateKeyPairSync } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EventSchemas } from "@ag-ui/core/schemas";
import { claimPort, freePort, waitFor } from "./harness.mjs";
import { pythonRunner } from "./docs-python.mjs";
import { cleanEnv, killGroup, run, scratchClone, startServer, started, stopLeftovers } from "./docs-processes.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE = resolve(here, "..");
const ROOT = resolve(PACKAGE, "../..");
const JAR = join(ROOT, "server/target/agentwire.jar");
const DOC_PORTS = [8080, 8081, 6379, 7001, 7002, 7003, 7004];
const PRODUCER_KEY = "docs-test-producer-key-0123456789";
const LANGUAGES = new Set(["bash", "ts", "java", "xml", "properties", "json", "python", "text"]);

/** The docs this test holds to their word. */
function docFiles() {
  const files = ["README.md"];
  for (const name of readdirSync(join(ROOT, "docs")).sort()) {
    if (name.endsWith(".md")) {
      files.push(`docs/${name}`);
    }
  }
  for (const name of readdirSync(join(ROOT, "clients")).sort()) {
    if (existsSync(join(ROOT, "clients", name, "README.md"))) {
      files.push(`clients/${name}/README.md`);
    }
  }
  return files;
}

/** Each fenced block of a Markdown file: its language, first line number, code and `example:` directive. */
function blocksOf(file) {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) {
      continue;
    }
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith("```")) {
      end++;
    }
    let previous = i - 1;
    while (previous >= 0 && lines[previous].trim() === "") {
      previous--;
    }
    const directive = previous >= 0 ? /^<!-- example: (.*) -->$/.exec(lines[previous].trim()) : null;
    blocks.push({ file, line: i + 1, lang: open[1], code: lines.slice(i + 1, end).join("\n") + "\n",
      directive: directive ? directive[1].trim() : null });
    i = end;
  }
  return blocks;
}

/** A free port below 55535 whose +10000 (Redis Cluster's bus port) is free too. */
/**
 * A free port whose Redis Cluster bus port (10,000 above) is free too, both below the kernel's ephemeral range
 * (32768 and up). A port the kernel handed out to probe it could be taken again as the source port of another
 * connection (the block's own redis-cli calls, many of them) before the block's server bound it; below that range
 * no connection is given one.
 */
async function freeClusterablePort() {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = 11000 + Math.floor(Math.random() * 11000);
    if (await isFree(port) && await isFree(port + 10000) && claimPort(port) && claimPort(port + 10000)) {
      return port;
    }
  }
  throw new Error("no free port pair for a Redis Cluster node");
}

function isFree(port) {
  return new Promise((ok) => {
    const probe = createServer();
    probe.once("error", () => ok(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => ok(true)));
  });
}

async function portMap() {
  const map = new Map();
  for (const port of DOC_PORTS) {
    map.set(port, await freeClusterablePort());
  }
  return map;
}

function withPorts(code, map) {
  return code.replace(/\b(8080|8081|6379|7001|7002|7003|7004)\b/g, (port) => String(map.get(Number(port))));
}

/** The output a block promises in its `# -> …` / `// -> …` lines, each as a pattern (`..`: anything). */
function promises(code) {
  const out = [];
  for (const line of code.split("\n")) {
    const m = /^\s*(?:#|\/\/) -> (.*)$/.exec(line);
    if (m) {
      const pattern = m[1].trim().split("..").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
      out.push({ text: m[1].trim(), pattern: new RegExp(pattern) });
    }
  }
  return out;
}

function assertPromises(block, output) {
  for (const promise of promises(block.code)) {
    assert.match(output, promise.pattern, `${block.file}:${block.line} promised "${promise.text}"; output:\n${output}`);
  }
}

const ALL = docFiles().flatMap(blocksOf);
const demoBlock = ALL.find((b) => b.directive === "demo");

/** The README's own demo command, on a free port, with a known producer key (the demo prints the one it uses). */
async function startDemo() {
  assert.ok(demoBlock, "README.md has no `<!-- example: demo -->` block");
  const line = demoBlock.code.split("\n").find((l) => l.startsWith("bin/agentwire demo"));
  assert.ok(line, `${demoBlock.file}:${demoBlock.line} has no bin/agentwire demo line`);
  const port = await freePort();
  const args = [...line.split(/\s+/).slice(1), "--port", String(port)];
  const server = await startServer(args, port, cleanEnv({ AGENTWIRE_PRODUCER_KEY: PRODUCER_KEY }), ROOT);
  try {
    // The banner names the port, so the demo prints it once the port is open: just after /readyz answers, not
    // before. Its last line ends it.
    await waitFor(() => /AGENTWIRE_PRODUCER_KEY=/.test(server.log()), 10_000, null,
      () => `the demo's banner; its output:\n${server.log()}`);
    assert.match(server.log(), /Open the live page/, "the demo's banner");
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function runBash(block) {
  const scratch = scratchClone();
  const ports = await portMap();
  const code = withPorts(block.code, ports).replaceAll("/etc/agentwire/", `${scratch}/etc/agentwire/`);
  const result = await run("bash", ["-euo", "pipefail", "-c", code],
    { cwd: scratch, env: cleanEnv({ AGENTWIRE_PORT: String(ports.get(8080)) }), timeoutMs: 180_000 });
  try {
    assert.equal(result.code, 0, `${block.file}:${block.line} exited ${result.code}:\n${result.output}`);
    assertPromises(block, result.output);
  } finally {
    await stopLeftovers(result.pid, scratch);
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function runTs(block) {
  const dir = join(PACKAGE, "target/docs-examples");
  mkdirSync(dir, { recursive: true });
  const name = `${block.file.replace(/[^A-Za-z0-9]+/g, "-")}-${block.line}`;
  const demo = await startDemo();
  try {
    writeFileSync(join(dir, `${name}.ts`), block.code.replaceAll("127.0.0.1:8080", `127.0.0.1:${demo.port}`));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022"],
        types: ["node"], strict: true, skipLibCheck: true, outDir: "." },
      files: [`${name}.ts`],
    }));
    const tsc = spawnSync(join(PACKAGE, "node_modules/.bin/tsc"), ["-p", join(dir, "tsconfig.json")],
      { encoding: "utf8", timeout: 60_000 });
    assert.equal(tsc.status, 0, `${block.file}:${block.line} does not type-check:\n${tsc.stdout}${tsc.stderr}`);
    const result = await run(process.execPath, [join(dir, `${name}.js`)],
      { cwd: dir, env: cleanEnv({}), timeoutMs: 60_000 });
    assert.equal(result.code, 0, `${block.file}:${block.line} exited ${result.code}:\n${result.output}`);
    assertPromises(block, result.output);
  } finally {
    await demo.stop();
  }
}

async function runJava(block) {
  const scratch = mkdtempSync(join(tmpdir(), "agentwire-docs-java-"));
  // The producer client's examples: its sources compiled here (the build makes its module after this one), run
  // against a fresh demo with the demo's producer key. Jackson comes with the server jar.
  const client = block.file.startsWith("clients/java/");
  const demo = client ? await startDemo() : null;
  try {
    const main = /public\s+(?:final\s+)?class\s+(\w+)/.exec(block.code);
    assert.ok(main, `${block.file}:${block.line}: a Java example is a whole program (a public class with main)`);
    const code = demo ? block.code.replaceAll("127.0.0.1:8080", `127.0.0.1:${demo.port}`) : block.code;
    writeFileSync(join(scratch, `${main[1]}.java`), code);
    let classPath = JAR;
    if (client) {
      const sources = join(ROOT, "clients/java/src/main/java/dev/agentwire/producer");
      const javac = spawnSync(process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin/javac") : "javac",
        ["-d", join(scratch, "classes"), "-cp", JAR, ...readdirSync(sources).map((f) => join(sources, f))],
        { encoding: "utf8", timeout: 120_000 });
      assert.equal(javac.status, 0, `the producer client does not compile:\n${javac.stdout}${javac.stderr}`);
      classPath = `${join(scratch, "classes")}:${JAR}`;
    }
    const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin/java") : "java";
    const result = await run(java, ["--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", classPath,
      `${main[1]}.java`], { cwd: scratch, env: cleanEnv({ AGENTWIRE_PRODUCER_KEY: PRODUCER_KEY }), timeoutMs: 60_000 });
    assert.equal(result.code, 0, `${block.file}:${block.line} exited ${result.code}:\n${result.output}`);
    assertPromises(block, result.output);
  } finally {
    await demo?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function runXml(block) {
  const coordinates = (xml) => ["groupId", "artifactId", "version"]
    .map((tag) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1]);
  const wanted = coordinates(block.code).join(":");
  const modules = ["core", "server", "clients/java", "benchmarks"].map((module) => {
    const pom = readFileSync(join(ROOT, module, "pom.xml"), "utf8");
    const parent = coordinates(/<parent>[\s\S]*?<\/parent>/.exec(pom)?.[0] ?? "");
    const own = coordinates(pom.replace(/<parent>[\s\S]*?<\/parent>/, "").replace(/<dependencies>[\s\S]*/, ""));
    return [own[0] ?? parent[0], own[1], own[2] ?? parent[2]].join(":");
  });
  assert.ok(modules.includes(wanted), `${block.file}:${block.line} names ${wanted}; the build's modules: ${modules}`);
}

async function runProperties(block) {
  const scratch = scratchClone();
  let server = null;
  try {
    const ports = await portMap();
    const text = withPorts(block.code, ports).replaceAll("/etc/agentwire/", `${scratch}/etc/agentwire/`)
      .replace(/^(AGENTWIRE_HOST)=.*$/m, "$1=127.0.0.1");
    // A JWKS file where the example points, as an identity provider publishes one.
    const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" });
    writeFileSync(join(scratch, "etc/agentwire/jwks.json"), JSON.stringify({ keys: [{ ...jwk, kid: "docs", use: "sig",
      alg: "RS256" }] }));
    const file = join(scratch, "etc/agentwire/agentwire.properties");
    writeFileSync(file, text);
    const port = Number(/^AGENTWIRE_PORT=(\d+)$/m.exec(text)?.[1] ?? ports.get(8080));
    server = await startServer(["serve", "--config", file], port,
      cleanEnv({ AGENTWIRE_PRODUCER_KEY: PRODUCER_KEY }), scratch);
  } finally {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function runJson(block) {
  const body = JSON.parse(block.code);
  const directive = block.directive ?? "";
  if (directive === "ag-ui event") {
    EventSchemas.parse(body);
    return;
  }
  const post = /^POST (\S+)(?: after (.*))?$/.exec(directive);
  if (!post) {
    assert.equal(directive, "", `${block.file}:${block.line}: unknown example directive "${directive}"`);
    return;
  }
  const demo = await startDemo();
  try {
    const send = async (payload) => {
      const response = await fetch(`http://127.0.0.1:${demo.port}${post[1]}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${PRODUCER_KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      return { status: response.status, text: await response.text() };
    };
    if (post[2]) {
      const before = await send(JSON.parse(post[2]));
      assert.equal(before.status, 202, `the event before ${block.file}:${block.line}: ${before.text}`);
    }
    const answer = await send(body);
    assert.equal(answer.status, 202, `${block.file}:${block.line} was answered ${answer.status}: ${answer.text}`);
  } finally {
    await demo.stop();
  }
}

test("the docs have code blocks, each with a language this test knows", () => {
  assert.ok(ALL.length > 10, `found ${ALL.length} blocks`);
  for (const block of ALL) {
    assert.ok(LANGUAGES.has(block.lang),
      `${block.file}:${block.line}: fence language "${block.lang}" (use one of ${[...LANGUAGES].join(", ")})`);
  }
});

test("every AGENTWIRE_* variable the docs name is a setting, or read where they say", () => {
  const help = spawnSync(process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin/java") : "java",
    ["-jar", JAR, "serve", "--help"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(help.status, 0, help.stderr);
  const settings = new Set([...help.stdout.matchAll(/--([a-z][a-z-]+)/g)]
    .map((m) => `AGENTWIRE_${m[1].replaceAll("-", "_").toUpperCase()}`));
  // Not settings of the server, each read by one file.
  const readBy = { AGENTWIRE_JAVA_OPTS: "bin/agentwire", AGENTWIRE_LOG_LEVEL: "server/src/main/resources/logback.xml",
    AGENTWIRE_JAR: "clients/js/test/harness.mjs" };
  for (const [name, file] of Object.entries(readBy)) {
    assert.ok(readFileSync(join(ROOT, file), "utf8").includes(name), `${file} reads ${name}`);
  }
  for (const file of docFiles()) {
    for (const [name] of readFileSync(join(ROOT, file), "utf8").matchAll(/AGENTWIRE_[A-Z0-9_]+/g)) {
      assert.ok(settings.has(name) || name in readBy, `${file} names ${name}: no such setting`);
    }
  }
});

// Two blocks at a time: most of a block's time is a JVM starting and a server waiting for its client, so two
// overlap well on two cores; each has ports of its own (freePort).
describe("every code block", { concurrency: 2 }, () => {
  for (const block of ALL) {
    const where = `${block.file}:${block.line} (${block.lang})`;
    const skip = /^skip: (.+)$/.exec(block.directive ?? "");
    if (skip) {
      test(`${where} is not run: ${skip[1]}`, { skip: skip[1] }, () => {});
      continue;
    }
    if (block.lang === "text") {
      continue;
    }
    if (block.directive === "demo") {
      // Its other command (mvn verify) is the build that runs this test.
      test(`${where} starts the demo: its page and banner`, { timeout: 120_000 }, async () => {
        const demo = await startDemo();
        try {
          const page = await fetch(`http://127.0.0.1:${demo.port}/`);
          assert.equal(page.status, 200);
          assert.match(demo.log(), /Publish to alice: +curl/);
        } finally {
          await demo.stop();
        }
      });
      continue;
    }
    const runPython = pythonRunner({ run, cleanEnv, startDemo, startServer, assertPromises, killGroup, started,
      PRODUCER_KEY, ROOT, PACKAGE });
    const runner = { bash: runBash, ts: runTs, java: runJava, xml: runXml, properties: runProperties, json: runJson,
      python: runPython }
      [block.lang];
    if (runner) {
      test(`${where} runs as written`, { timeout: 240_000 }, () => runner(block));
    }
  }
});
