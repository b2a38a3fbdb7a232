// The live demo page. Runs go through AG-UI: an AgentWireAgent (the AG-UI agent of @ag-ui/client, over /v1/ag-ui)
// sends each prompt, shows the run's AG-UI events as they arrive, answers an approval (an AG-UI interrupt) and stops
// a run (abortRun). Beside it, one AgentWireClient on /v1/ws follows the user's whole stream: the connection state,
// the cursor, and events that belong to no run. "Drop connection" has the server cut both sockets; each reconnects
// and resumes from its cursor, and the run's seqs show that nothing was lost or shown twice.
import { AgentWireAgent, AgentWireClient } from "/clients/agentwire-agent.js";

const params = new URLSearchParams(location.search);
const user = params.get("user") || "guest-" + Math.random().toString(36).slice(2, 8);
const THREAD = "demo-thread";
const $ = (id) => document.getElementById(id);
$("user").textContent = user;
$("empty-user").textContent = user;

const base = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;
const token = async () => {
  const response = await fetch("/demo/token?user=" + encodeURIComponent(user));
  if (!response.ok) {
    throw new Error("token " + response.status);
  }
  return (await response.json()).token;
};

function log(text, kind) {
  const line = document.createElement("div");
  line.className = "note" + (kind ? " " + kind : "");
  line.textContent = new Date().toLocaleTimeString() + "  " + text;
  $("log").prepend(line);
}

function resumed(socket, r) {
  log(socket + (r.recovered ? " resumed: nothing lost, replaying #" + r.from + "…#" + r.to :
    " resumed: history lost before #" + r.from + " (recovered: false)"), r.recovered ? "resumed" : "lost");
  document.body.dataset.resumes = String(Number(document.body.dataset.resumes || 0) + 1);
}

// ---- Runs, as AG-UI events ----------------------------------------------------------------------------------------

const runs = new Map();
let running = null; // the run in progress: its id, while the Stop button can stop it

function runView(runId) {
  let run = runs.get(runId);
  if (!run) {
    const root = document.createElement("div");
    root.className = "run";
    root.dataset.runId = runId;
    root.innerHTML = "<h2><span class='title'></span><span class='status'>running</span></h2>" +
      "<div class='thinking'></div><div class='answer'></div><div class='approval' hidden></div>" +
      "<table><tbody></tbody></table>";
    root.querySelector(".title").textContent = runId + " · " + THREAD;
    $("runs").prepend(root);
    run = { root, tbody: root.querySelector("tbody"), seen: new Set(), rows: new Map(), calls: new Map(),
      startedAt: Date.now() };
    runs.set(runId, run);
  }
  return run;
}

// One row per seq: an AgentWire event becomes several AG-UI events that share its seq (parts), and a native AG-UI
// event has a seq of its own. A row shows its group's telling event (content, a tool call, the end); the starts and
// ends around content only make the row when nothing else does. So the numbers down a run run 1, 2, 3 … with no gap.
function rowFor(run, seq, event) {
  let tr = run.rows.get(seq);
  if (!tr) {
    tr = document.createElement("tr");
    tr.className = "event";
    tr.dataset.seq = seq;
    tr.innerHTML = "<td class='seq'></td><td class='ms'></td><td class='type'></td><td class='body'></td>";
    tr.querySelector(".seq").textContent = "#" + seq;
    tr.querySelector(".ms").textContent = "+" + Math.max(0, Date.now() - run.startedAt) + " ms";
    describe(tr, event, "");
    run.tbody.appendChild(tr);
    run.rows.set(seq, tr);
  }
  return tr;
}

function describe(tr, event, text) {
  tr.dataset.type = event.type;
  tr.querySelector(".type").textContent = event.type;
  tr.querySelector(".body").textContent = text;
}

function setStatus(run, status) {
  const pill = run.root.querySelector(".status");
  pill.textContent = status;
  pill.className = "status outcome-" + status;
  run.root.dataset.outcome = status;
}

// One AG-UI event of a run. Events carry their place in the user's stream (metadata.agentwire: seq, part), so a
// group sent again after a resume, or a prelude's RUN_STARTED, is recognised and shown once.
function show(event) {
  const meta = event.metadata?.agentwire ?? {};
  const runId = meta.runId ?? event.runId;
  if (!runId || meta.seq === undefined) {
    return;
  }
  $("empty").hidden = true;
  const run = runView(runId);
  const key = meta.seq + ":" + (meta.part ?? event.type);
  if (run.seen.has(key)) {
    return;
  }
  run.seen.add(key);
  const tr = rowFor(run, meta.seq, event);
  run.root.dataset.seqs = [...run.rows.keys()].sort((a, b) => a - b).join(",");
  switch (event.type) {
    case "RUN_STARTED":
      describe(tr, event, meta.prelude ? "run (joined midway)" : "run started");
      break;
    case "REASONING_MESSAGE_CONTENT":
      run.root.querySelector(".thinking").textContent += event.delta;
      describe(tr, event, "“" + event.delta + "”");
      break;
    case "TEXT_MESSAGE_CONTENT":
      run.root.querySelector(".answer").textContent += event.delta;
      describe(tr, event, event.delta);
      break;
    case "TOOL_CALL_START":
      describe(tr, event, event.toolCallName + "(…)  [" + event.toolCallId + "]");
      run.calls.set(event.toolCallId, tr);
      break;
    case "TOOL_CALL_ARGS": {
      const call = run.calls.get(event.toolCallId);
      if (call) {
        call.querySelector(".body").textContent = call.querySelector(".body").textContent.replace("(…)",
          "(" + event.delta + ")");
      }
      if (call !== tr) {
        describe(tr, event, event.delta);
      }
      break;
    }
    case "TOOL_CALL_RESULT":
      describe(tr, event, "→ " + event.content + "  [" + event.toolCallId + "]");
      break;
    case "RUN_FINISHED": {
      const outcome = event.outcome?.type ?? "success";
      describe(tr, event, outcome);
      setStatus(run, outcome === "interrupt" ? "waiting" : outcome);
      if (outcome === "interrupt") {
        ask(run, event.outcome.interrupts);
      }
      break;
    }
    case "RUN_ERROR":
      describe(tr, event, event.code + ": " + event.message);
      setStatus(run, "error");
      break;
    default:
      break; // a start or end around content: its row is the group's, or its own when it has a seq of its own
  }
  $("cursor").textContent = feed.cursor.seq;
}

// An AG-UI interrupt: the run stopped to ask. The person answers here; the answer is the next run's resume[].
function ask(run, interrupts) {
  const card = run.root.querySelector(".approval");
  card.hidden = false;
  card.innerHTML = "<p class='question'></p><button type='button' class='approve'>Approve</button> " +
    "<button type='button' class='reject'>Reject</button>";
  card.querySelector(".question").textContent = interrupts.map((i) => i.message ?? i.reason).join(" ");
  const answer = (approved) => {
    card.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    card.dataset.answered = approved ? "approved" : "rejected";
    setStatus(run, card.dataset.answered);
    log("answered the approval: " + card.dataset.answered);
    start(null, interrupts.map((i) => ({ interruptId: i.id, status: "resolved", payload: { approved } })));
  };
  card.querySelector(".approve").addEventListener("click", () => answer(true));
  card.querySelector(".reject").addEventListener("click", () => answer(false));
}

const agent = new AgentWireAgent({
  url: base + "/v1/ag-ui",
  token,
  threadId: THREAD,
  onResumed: (r) => resumed("run socket", r),
  onError: (e) => log("error " + e.code + ": " + e.message, "lost"),
});

// A prompt (text) or an answer (resume): a new run of the thread, followed until it ends.
async function start(text, resume) {
  const runId = "run-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 6);
  if (text) {
    agent.addMessage({ id: "m-" + runId, role: "user", content: text });
  }
  running = runId;
  $("stop").disabled = false;
  runView(runId);
  try {
    await agent.runAgent({ runId, ...(resume ? { resume } : {}) }, { onEvent: ({ event }) => show(event) });
  } catch (e) {
    log("run " + runId + " failed: " + (e.code ?? e.message), "lost");
    setStatus(runView(runId), "refused");
  } finally {
    if (running === runId) {
      running = null;
      $("stop").disabled = true;
    }
  }
}

$("ask").addEventListener("submit", (submit) => {
  submit.preventDefault();
  const text = $("prompt").value.trim();
  if (text) {
    log("sent: " + text);
    $("prompt").value = "";
    start(text, null);
  }
});

$("stop").addEventListener("click", () => {
  if (running) {
    log("asked the agent to stop " + running);
    agent.abortRun();
  }
});

$("drop").addEventListener("click", async () => {
  const response = await fetch("/demo/drop?user=" + encodeURIComponent(user), { method: "POST" });
  log("asked the server to drop this page's connections (" + (await response.json()).dropped + ")");
});

// ---- The user's stream: connection, cursor, events outside runs ---------------------------------------------------

function showStandalone(event) {
  $("empty").hidden = true;
  const line = document.createElement("div");
  line.className = "standalone";
  line.dataset.seq = event.seq;
  line.dataset.type = event.type;
  line.innerHTML = "<span class='seq'></span>  <span class='type'></span>  <span class='body'></span>";
  line.querySelector(".seq").textContent = "#" + event.seq;
  line.querySelector(".type").textContent = event.type + (event.room ? " · room " + event.room : "");
  line.querySelector(".body").textContent = JSON.stringify(event.data ?? {});
  $("runs").prepend(line);
}

const feed = new AgentWireClient({
  url: base + "/v1/ws",
  token,
  onEvent: (event) => {
    if (!event.run_id) {
      showStandalone(event);
    }
    $("cursor").textContent = feed.cursor.seq;
  },
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
  onResumed: (r) => resumed("stream", r),
  onError: (e) => log("error " + e.code + ": " + e.message, "lost"),
}).connect();

// A reloaded page picks up what its thread is doing: a run in progress, or an approval still waiting (the server's
// prelude shows both).
agent.connectAgent({}, { onEvent: ({ event }) => show(event) }).catch((e) => log("connect: " + e.message, "lost"));

window.agentwire = { feed, agent };
