// The live demo page: one AgentWireClient, a timeline per run, the connection state, and a button that has the
// server drop this connection so you can watch the client reconnect and resume with no gap and no duplicate.
import { AgentWireClient } from "/clients/agentwire.js";

const params = new URLSearchParams(location.search);
const user = params.get("user") || "guest-" + Math.random().toString(36).slice(2, 8);
const $ = (id) => document.getElementById(id);
$("user").textContent = user;
$("empty-user").textContent = user;

const runs = new Map();

function log(text, kind) {
  const line = document.createElement("div");
  line.className = "note" + (kind ? " " + kind : "");
  line.textContent = new Date().toLocaleTimeString() + "  " + text;
  $("log").prepend(line);
}

function runView(event) {
  let run = runs.get(event.run_id);
  if (!run) {
    const root = document.createElement("div");
    root.className = "run";
    root.dataset.runId = event.run_id;
    root.innerHTML = "<h2><span class='title'></span><span class='status'>running</span></h2>" +
      "<div class='answer'></div><table><tbody></tbody></table>";
    root.querySelector(".title").textContent = event.run_id + (event.thread_id ? " · " + event.thread_id : "");
    $("runs").prepend(root);
    run = { root, startedAt: event.ts, tbody: root.querySelector("tbody"), answer: root.querySelector(".answer") };
    runs.set(event.run_id, run);
  }
  return run;
}

function describe(event) {
  const d = event.data || {};
  switch (event.type) {
    case "agent_started": return "agent " + d.agent + (d.prompt ? " — “" + d.prompt + "”" : "");
    case "agent_thinking": return "“" + d.text + "”";
    case "tool_executing": return d.tool + "(" + JSON.stringify(d.args) + ")  [" + d.tool_call_id + "]";
    case "tool_completed": return (d.error ? "error: " + d.error : "→ " + JSON.stringify(d.result)) +
      "  [" + d.tool_call_id + "]";
    case "agent_completed": return d.outcome + ": " + (d.result || d.error || "");
    default: return JSON.stringify(d);
  }
}

// An event outside any run (a producer's note, a broadcast): a line of its own, not a run that never ends.
function showStandalone(event) {
  const line = document.createElement("div");
  line.className = "standalone";
  line.dataset.seq = event.seq;
  line.dataset.type = event.type;
  line.innerHTML = "<span class='seq'></span>  <span class='type'></span>  <span class='body'></span>";
  line.querySelector(".seq").textContent = "#" + event.seq;
  line.querySelector(".type").textContent = event.type + (event.room ? " · room " + event.room : "");
  line.querySelector(".body").textContent = describe(event);
  $("runs").prepend(line);
}

function show(event) {
  $("empty").hidden = true;
  if (!event.run_id) {
    showStandalone(event);
    $("cursor").textContent = client.cursor.seq;
    return;
  }
  const run = runView(event);
  const row = document.createElement("tr");
  row.className = "event";
  row.dataset.seq = event.seq;
  row.dataset.type = event.type;
  row.innerHTML = "<td class='seq'></td><td class='ms'></td><td class='type'></td><td class='body'></td>";
  row.querySelector(".seq").textContent = "#" + event.seq;
  row.querySelector(".ms").textContent = "+" + Math.max(0, event.ts - run.startedAt) + " ms";
  row.querySelector(".type").textContent = event.type;
  row.querySelector(".body").textContent = describe(event);
  run.tbody.appendChild(row);
  if (event.type === "agent_thinking") {
    run.answer.textContent += event.data.text;
  }
  if (event.type === "agent_completed") {
    const status = run.root.querySelector(".status");
    status.textContent = event.data.outcome;
    status.className = "status outcome-" + event.data.outcome;
    run.root.dataset.outcome = event.data.outcome;
    if (event.data.result) {
      run.answer.textContent += "\n\n" + event.data.result;
    }
  }
  $("cursor").textContent = client.cursor.seq;
}

const client = new AgentWireClient({
  url: (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/ws",
  token: async () => {
    const response = await fetch("/demo/token?user=" + encodeURIComponent(user));
    if (!response.ok) {
      throw new Error("token " + response.status);
    }
    return (await response.json()).token;
  },
  onEvent: show,
  onStatus: (s) => {
    $("state").dataset.state = s.state;
    $("state").textContent = s.state + (s.delayMs ? " in " + s.delayMs + " ms" : "");
    if (s.state === "waiting") {
      log("connection closed" + (s.code ? " (code " + s.code + ")" : "") + ", retry " + s.attempt + " in " +
        s.delayMs + " ms");
    } else if (s.state === "connected") {
      log("connected");
    }
  },
  onResumed: (r) => {
    const note = r.recovered
      ? "resumed: nothing lost, replaying #" + r.from + "…#" + r.to
      : "resumed: history lost before #" + r.from + " (recovered: false)";
    log(note, r.recovered ? "resumed" : "lost");
    document.body.dataset.resumes = String(Number(document.body.dataset.resumes || 0) + 1);
  },
  onError: (e) => log("error " + e.code + ": " + e.message, "lost"),
}).connect();

$("ask").addEventListener("submit", (submit) => {
  submit.preventDefault();
  const text = $("prompt").value.trim();
  if (text) {
    client.sendUserMessage("demo-thread", { text });
    log("sent: " + text);
    $("prompt").value = "";
  }
});

$("drop").addEventListener("click", async () => {
  const response = await fetch("/demo/drop?user=" + encodeURIComponent(user), { method: "POST" });
  log("asked the server to drop this connection (" + (await response.json()).dropped + ")");
});

window.agentwire = client;
