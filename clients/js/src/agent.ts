// AgentWireAgent: an AG-UI agent (@ag-ui/client's AbstractAgent) over AgentWire's /v1/ag-ui socket. run() sends
// the user's message and yields the run's AG-UI events; connect() re-attaches to a run in progress — after a dropped
// socket by cursor, after a page reload by the server's prelude. docs/AG-UI.md.

import { AbstractAgent, type AgentConfig } from "@ag-ui/client";
import type { AgentCapabilities, BaseEvent, RunAgentInput } from "@ag-ui/core";
import { Observable, throwError, type Subscriber } from "rxjs";
import {
  AgentWireClient, AgentWireError, type AgUiEvent, type ConnectionStatus, type ResumeOutcome,
  type WebSocketConstructor,
} from "./agentwire.js";

export interface AgentWireAgentConfig extends AgentConfig {
  /** ws(s)://host:port/v1/ag-ui */
  url: string;
  /** Returns the user's token; called before every (re)connect. */
  token: () => string | Promise<string>;
  /** For Node: the ws package's WebSocket. Browsers have their own. */
  WebSocketImpl?: WebSocketConstructor;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Connects in a row that may fail before runAgent()/connectAgent() reject with an AgentWireError (default 8). */
  maxConnectAttempts?: number;
  /** How often the run's socket is pinged; one that brings nothing for an interval is resumed (20,000; 0: off). */
  heartbeatMs?: number;
  /** Longest the run's socket may take to open before it is tried again (10,000; 0: the runtime's own). */
  connectTimeoutMs?: number;
  /**
   * Longest a run may take to show its first event once its input was sent, then runAgent() rejects with
   * `run_start_timeout`: the runtime that took the input may have died before starting the run (60,000, as the
   * server's AG-UI over HTTP; 0: none).
   */
  runStartTimeoutMs?: number;
  /** Told each change of the socket's state (connecting, open, reconnecting, failed), as the client tells it. */
  onStatus?: (status: ConnectionStatus) => void;
  /**
   * Told every error the server, the token source or the socket reports, also those the agent retries
   * (token_failed, connect_timeout).
   */
  onError?: (error: { code: string; message: string }) => void;
  /** Told each resume of the run's socket after a drop: whether nothing was lost, and the seqs replayed. */
  onResumed?: (outcome: ResumeOutcome) => void;
  /**
   * The server's `--max-message-bytes` (default 65536): a run whose RunAgentInput would make a larger message is
   * failed with `input_too_large` before anything is sent, instead of the server closing the socket with 1009.
   */
  maxMessageBytes?: number;
  /**
   * What the agent runtime behind AgentWire declares beyond the transport (tools, state, human in the loop …):
   * merged into {@link AgentWireAgent.getCapabilities}. AgentWire states only what it knows: its transport.
   */
  capabilities?: AgentCapabilities;
}

/** How long a run's first event may take after its input, by default (the server's for AG-UI over HTTP). */
const DEFAULT_RUN_START_TIMEOUT_MS = 60_000;

/** The server's default bound on a client message (`--max-message-bytes`). */
const DEFAULT_MAX_MESSAGE_BYTES = 65_536;

/** What this agent remembers of the run it followed last, so connect() can pick it up where the socket left it. */
interface FollowedRun {
  runId: string;
  threadId: string;
  started: BaseEvent;
  /** Start events of parts still open (native AG-UI runs can hold a message or tool call open across events). */
  open: Map<string, BaseEvent>;
  cursor: { epoch: number | null; seq: number };
  ended: boolean;
}

/** Start and end event types of the parts a run can hold open, and the field that pairs them. */
const OPENS: Record<string, string> = {
  TEXT_MESSAGE_START: "messageId", TOOL_CALL_START: "toolCallId", REASONING_START: "messageId",
  REASONING_MESSAGE_START: "messageId", STEP_STARTED: "stepName",
};
const CLOSES: Record<string, string> = {
  TEXT_MESSAGE_END: "TEXT_MESSAGE_START", TOOL_CALL_END: "TOOL_CALL_START", REASONING_END: "REASONING_START",
  REASONING_MESSAGE_END: "REASONING_MESSAGE_START", STEP_FINISHED: "STEP_STARTED",
};

function trackOpen(open: Map<string, BaseEvent>, event: AgUiEvent): void {
  const idField = OPENS[event.type];
  if (idField) {
    open.set(`${event.type}:${String(event[idField])}`, event as BaseEvent);
    return;
  }
  const opener = CLOSES[event.type];
  if (opener) {
    open.delete(`${opener}:${String(event[OPENS[opener]])}`);
  }
}

const ENDS_RUN = new Set(["RUN_FINISHED", "RUN_ERROR"]);
/** Errors the client tries again after (within its attempt bound): told to onError, they do not end a run. */
const RETRIED_ERRORS = new Set(["rate_limited", "resume_in_progress", "token_failed", "connect_timeout"]);
/** The server's notice, in the user's stream, of a message of theirs that no runtime will get (docs/PROTOCOL.md). */
const MESSAGE_LOST = "agentwire.message_lost";

/**
 * An AG-UI agent whose transport is AgentWire: one WebSocket per run, reconnecting and resuming by cursor on its
 * own (a dropped socket never reaches the AG-UI pipeline), and a {@link connect} that works.
 */
export class AgentWireAgent extends AbstractAgent {
  private config: AgentWireAgentConfig;
  private followed: FollowedRun | null = null;
  private current: AgentWireClient<AgUiEvent> | null = null;

  constructor(config: AgentWireAgentConfig) {
    super(config);
    this.config = config;
  }

  /**
   * Sends the whole RunAgentInput (messages, tools, context, state, forwardedProps, parentRunId, resume) as a
   * user_message for this run — `data.input`, with the newest user message's text as `data.text` for runtimes that
   * read only that — and yields the run's events until it ends.
   */
  run(input: RunAgentInput): Observable<BaseEvent> {
    const data = { text: lastUserText(input), input };
    const bytes = new TextEncoder().encode(JSON.stringify({ type: "user_message", thread_id: input.threadId,
      run_id: input.runId, data })).length;
    const limit = this.config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (bytes > limit) {
      return throwError(() => new AgentWireError("input_too_large", `the RunAgentInput makes a message of ${bytes} ` +
        `bytes, over the server's ${limit} (--max-message-bytes)`));
    }
    return this.follow(input.runId, input.threadId, null, null, (client) => {
      client.sendUserMessage(input.threadId, data, input.runId);
    });
  }

  /** A copy with the same configuration (and AbstractAgent's messages and state), following no run. */
  clone(): AgentWireAgent {
    const copy = super.clone() as AgentWireAgent;
    copy.config = { ...this.config };
    copy.followed = null;
    copy.current = null;
    return copy;
  }

  /**
   * What this agent can do, truthfully: AgentWire's transport — a WebSocket, streamed, resumable by cursor — and
   * whatever the application declared for its runtime (`capabilities`).
   */
  async getCapabilities(): Promise<AgentCapabilities> {
    const declared = this.config.capabilities ?? {};
    return { ...declared, transport: { ...declared.transport, websocket: true, streaming: true, resumable: true } };
  }

  /**
   * Re-attaches to the thread's run in progress. When this agent followed it and the socket went away (or the run
   * was detached), it resumes from its cursor, starting with the run's RUN_STARTED (and the starts of whatever the
   * run still holds open) again, so the stream verifies on its own. Otherwise (a reloaded page) it connects without
   * a cursor: the server's prelude opens every run still running, and this agent follows the thread's. Completes at
   * once when the thread has no run in progress.
   */
  protected connect(input: RunAgentInput): Observable<BaseEvent> {
    const known = this.followed;
    if (known && !known.ended && known.threadId === input.threadId && known.cursor.epoch !== null) {
      return this.follow(known.runId, known.threadId, known.cursor, [known.started, ...known.open.values()], null);
    }
    return this.follow(null, input.threadId, null, null, null);
  }

  /** Cancels the run being followed (the runtime ends it with a cancelled outcome). */
  abortRun(): void {
    const run = this.followed;
    if (run && !run.ended && this.current) {
      this.current.cancel(run.runId);
    }
    super.abortRun();
  }

  /**
   * @param runId    the run to follow, or null to take the thread's first run the server shows (prelude or live).
   * @param cursor   resume from here, or null for a connection that starts live (with the prelude).
   * @param replay   the run's RUN_STARTED and open parts' starts, re-emitted first when resuming.
   * @param onOpen   called once the socket is welcome (a user_message sent then is never ahead of the stream).
   */
  private follow(
    runId: string | null,
    threadId: string,
    cursor: { epoch: number | null; seq: number } | null,
    replay: BaseEvent[] | null,
    onOpen: ((client: AgentWireClient<AgUiEvent>) => void) | null,
  ): Observable<BaseEvent> {
    return new Observable<BaseEvent>((subscriber: Subscriber<BaseEvent>) => {
      let following = runId;
      let welcomed = false;
      let done = false;
      // Set once the input is sent, until the run shows an event: a runtime that took it and died would leave the
      // run waiting for ever.
      let startTimer: ReturnType<typeof setTimeout> | null = null;
      const startTimeoutMs = this.config.runStartTimeoutMs ?? DEFAULT_RUN_START_TIMEOUT_MS;
      for (const event of replay ?? []) {
        subscriber.next(event);
      }
      const finish = (error?: Error) => {
        if (startTimer !== null) {
          clearTimeout(startTimer);
          startTimer = null;
        }
        if (done) {
          return;
        }
        done = true;
        if (this.followed) {
          this.followed.cursor = client.cursor;
        }
        client.close();
        if (error) {
          subscriber.error(error);
        } else {
          subscriber.complete();
        }
      };
      const client: AgentWireClient<AgUiEvent> = new AgentWireClient<AgUiEvent>({
        url: this.config.url,
        token: this.config.token,
        WebSocketImpl: this.config.WebSocketImpl,
        initialBackoffMs: this.config.initialBackoffMs,
        maxBackoffMs: this.config.maxBackoffMs,
        maxConnectAttempts: this.config.maxConnectAttempts,
        heartbeatMs: this.config.heartbeatMs,
        connectTimeoutMs: this.config.connectTimeoutMs,
        cursor: cursor && cursor.epoch !== null ? { epoch: cursor.epoch, seq: cursor.seq } : null,
        onControl: (m) => {
          if (m.type === "welcome" && !welcomed) {
            welcomed = true;
            onOpen?.(client);
            if (onOpen && startTimeoutMs > 0) {
              startTimer = setTimeout(() => finish(new AgentWireError("run_start_timeout", `no event of run ` +
                `${following} came within ${startTimeoutMs} ms of its input: the runtime that took it may have died`)),
              startTimeoutMs);
            }
          } else if (m.type === "live" && following === null) {
            // The prelude is whole and showed no run of this thread: there is nothing to re-attach to.
            finish();
          }
        },
        onResumed: (r) => {
          this.config.onResumed?.(r);
          if (!r.recovered) {
            finish(new Error(`agentwire: events of run ${following} were lost (history starts at seq ${r.from})`));
          }
        },
        onError: (e) => {
          this.config.onError?.(e);
          // A token the application cannot make, or a socket that did not open in time, is retried (within the
          // attempt bound), so it does not end the run.
          if (!RETRIED_ERRORS.has(e.code)) {
            finish(new AgentWireError(e.code, e.message));
          }
        },
        onStatus: (s) => {
          this.config.onStatus?.(s);
          if (s.state === "failed") {
            finish(new AgentWireError("closed", `the server closed the socket with ${s.code}; reconnecting ` +
              "cannot help"));
          }
        },
        onEvent: (event) => {
          const meta = event.metadata?.agentwire;
          if (!meta || done) {
            return;
          }
          const lost = lostRunInput(event);
          if (lost !== null && lost.runId !== null && lost.runId === following) {
            // The input that asked for this run reached no runtime: no event of it will come.
            finish(new AgentWireError("message_lost", `no agent runtime got the input of run ${following} ` +
              `(${lost.reason}); send it again`));
            return;
          }
          if (following === null && event.type === "RUN_STARTED" && meta.threadId === threadId && meta.runId) {
            following = meta.runId;
          }
          if (meta.runId !== following) {
            return;
          }
          if (startTimer !== null) {
            clearTimeout(startTimer);
            startTimer = null;
          }
          if (event.type === "RUN_STARTED") {
            this.followed = { runId: following!, threadId, started: event as BaseEvent, open: new Map(),
              cursor: client.cursor, ended: false };
          }
          if (this.followed && this.followed.runId === following) {
            trackOpen(this.followed.open, event);
          }
          if (this.followed && this.followed.runId === following) {
            this.followed.cursor = client.cursor;
          }
          subscriber.next(event as BaseEvent);
          if (ENDS_RUN.has(event.type)) {
            if (this.followed) {
              this.followed.ended = true;
            }
            finish();
          }
        },
      });
      this.current = client;
      client.connect();
      return () => {
        // Unsubscribed (detached, or the run ended): keep the cursor for connect(), close the socket.
        if (startTimer !== null) {
          clearTimeout(startTimer);
          startTimer = null;
        }
        if (!done) {
          done = true;
          if (this.followed) {
            this.followed.cursor = client.cursor;
          }
          client.close();
        }
        if (this.current === client) {
          this.current = null;
        }
      };
    });
  }
}

/** @returns the run and reason of an {@link MESSAGE_LOST} notice, or null for any other event. */
function lostRunInput(event: AgUiEvent): { runId: string | null; reason: string } | null {
  const custom = event as { type: string; name?: unknown; value?: { run_id?: unknown; reason?: unknown } };
  if (custom.type !== "CUSTOM" || custom.name !== MESSAGE_LOST) {
    return null;
  }
  return { runId: typeof custom.value?.run_id === "string" ? custom.value.run_id : null,
    reason: String(custom.value?.reason ?? "lost") };
}

function lastUserText(input: RunAgentInput): string {
  for (let i = input.messages.length - 1; i >= 0; i--) {
    const message = input.messages[i];
    if (message.role === "user") {
      const content = (message as { content: unknown }).content;
      if (typeof content === "string") {
        return content;
      }
      if (Array.isArray(content)) {
        return content.filter((p) => p && p.type === "text").map((p) => p.text).join("");
      }
    }
  }
  return "";
}
