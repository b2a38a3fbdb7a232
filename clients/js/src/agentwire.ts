// AgentWire's WebSocket client: dependency-free, for browsers and any runtime with a WebSocket (Node: pass `ws`).
// Wire contract: docs/PROTOCOL.md (/v1/ws) and docs/AG-UI.md (/v1/ag-ui). Connects with a token, reconnects with
// jittered exponential backoff, resumes from the last (epoch, seq) it holds whole, drops duplicates, and tells the
// application when history was lost.

import type {
  AgentWireEvent, AgUiEvent, ConnectionStatus, ResumeOutcome, WebSocketConstructor, WebSocketLike,
} from "./wire.js";
export type {
  AgentWireEvent, AgUiCursor, AgUiEvent, ConnectionStatus, ResumeOutcome, WebSocketConstructor, WebSocketLike,
} from "./wire.js";

/** The agent event types of /v1/ws: the five of the golden path, and agent_answer (the answer, streamed). */
export const AGENT_EVENTS =
  ["agent_started", "agent_thinking", "agent_answer", "tool_executing", "tool_completed", "agent_completed"] as const;

/** Close codes after which reconnecting cannot help: the client itself must change (docs/PROTOCOL.md). */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([1008, 1009, 4003]);

export interface AgentWireClientOptions<E> {
  /** ws(s)://host:port/v1/ws, or …/v1/ag-ui for AG-UI events. */
  url: string;
  /** Returns a token; called before every (re)connect, so an expired token heals. */
  token: () => string | Promise<string>;
  /** Callbacks per event type (/v1/ws types, or AG-UI types on /v1/ag-ui). */
  on?: Record<string, (event: E) => void>;
  /** Every event, after its typed callback. */
  onEvent?: (event: E) => void;
  onStatus?: (status: ConnectionStatus) => void;
  onResumed?: (outcome: ResumeOutcome) => void;
  onError?: (error: { code: string; message: string }) => void;
  /** welcome, joined, left, pong. */
  onControl?: (message: Record<string, unknown>) => void;
  /** The first connect asks for all kept history (after=0) instead of starting live. */
  replayOnFirstConnect?: boolean;
  /** Resume from this cursor on the first connect (a cursor kept across a page reload). */
  cursor?: { epoch: number; seq: number } | null;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Connects in a row that may fail before the client gives up (status `failed`, `onError` `connect_failed`):
   * a token the server refuses fails before the socket opens, and a browser cannot tell that from a network
   * error. Default 8; reset once a connection is welcomed.
   */
  maxConnectAttempts?: number;
  /**
   * How often the client pings (`{"type":"ping"}`); a connection from which nothing, not even the `pong`, arrived
   * in the whole interval after a ping is dropped and resumed, as {@link AgentWireClient.drop} does. A browser
   * cannot see the server's own pings, and may keep a socket whose network is gone (a laptop woken up elsewhere,
   * a NAT that forgot it) for minutes. Default 20,000; 0 turns it off.
   */
  heartbeatMs?: number;
  /**
   * Longest a socket may take to open: a server or proxy that accepts the connection and never answers the upgrade
   * leaves a browser's socket opening with no end of its own. Past it, `onError` is told `connect_timeout` and the
   * client tries again, within `maxConnectAttempts`. Default 10,000; 0 leaves it to the runtime.
   */
  connectTimeoutMs?: number;
  WebSocketImpl?: WebSocketConstructor;
}

/** Why the client stopped, or why an agent's run ended: `code` names it (`unauthorized`, `connect_failed`, …). */
export class AgentWireError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(`agentwire: ${code}: ${message}`);
    this.name = "AgentWireError";
    this.code = code;
  }
}

/** HTTP statuses of a refused upgrade that retrying cannot help (a 429 can: it is retried with backoff). */
function refusedFor(error: unknown): number | null {
  const message = String((error as { message?: unknown })?.message ?? (error as { error?: { message?: unknown } })
    ?.error?.message ?? "");
  // Node's ws names the answer ("Unexpected server response: 401"); a browser's WebSocket says nothing.
  const match = /Unexpected server response: (\d{3})/.exec(message);
  const status = match ? Number(match[1]) : null;
  return status !== null && status >= 400 && status < 500 && status !== 429 ? status : null;
}

/**
 * What the client sends of its queue (messages sent while disconnected) as soon as a socket is welcome; the rest
 * follows at one message per {@link QUEUE_INTERVAL_MS}. The server takes a burst of frames per socket (40 by
 * default) and then 20 a second, and closes a socket past that with 4002, dropping what follows: a long queue sent
 * at once lost everything past the burst.
 */
const QUEUE_BURST = 16;
const QUEUE_INTERVAL_MS = 100;
/** Messages held while disconnected, at most: past it `send` is refused with `onError` `queue_full`. */
const QUEUE_MAX = 1_000;

/**
 * A connection to AgentWire that stays open: reconnects with jittered backoff, resumes by cursor, never hands the
 * application an event twice. Speaks /v1/ws ({@link AgentWireEvent}s) or /v1/ag-ui ({@link AgUiEvent}s), chosen
 * by the URL's path.
 */
export class AgentWireClient<E = AgentWireEvent> {
  private readonly options: AgentWireClientOptions<E>;
  private readonly on: Record<string, (event: E) => void>;
  private readonly agUi: boolean;
  private readonly WebSocketImpl: WebSocketConstructor;
  private epoch: number | null = null;
  /** The last seq held whole (on /v1/ag-ui: all of its parts). */
  private lastSeq = 0;
  /** On /v1/ag-ui: the seq whose parts are arriving, and how many of them were delivered. */
  private partialSeq = -1;
  private partsDelivered = 0;
  private socket: WebSocketLike | null = null;
  private attempt = 0;
  private closedByUser = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private opening: ReturnType<typeof setTimeout> | undefined;
  /** When the open socket last brought anything, and when it was last pinged (ms). */
  private heardAt = 0;
  private pingSentAt = 0;
  private readonly queue: string[] = [];
  private pacing: ReturnType<typeof setTimeout> | undefined;

  constructor(options: AgentWireClientOptions<E>) {
    if (!options || !options.url || !options.token) {
      throw new Error("AgentWireClient needs url and token");
    }
    this.options = options;
    this.on = options.on ?? {};
    this.agUi = new URL(options.url).pathname.endsWith("/ag-ui");
    const impl = options.WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) {
      throw new Error("no WebSocket in this runtime: pass WebSocketImpl (for Node, the ws package)");
    }
    this.WebSocketImpl = impl;
    if (options.cursor) {
      this.epoch = options.cursor.epoch;
      this.lastSeq = options.cursor.seq;
    }
  }

  /** The cursor to resume from: the last event held whole. */
  get cursor(): { epoch: number | null; seq: number } {
    return { epoch: this.epoch, seq: this.lastSeq };
  }

  /** True while a socket is open. */
  get connected(): boolean {
    return this.socket !== null && this.socket.readyState === 1;
  }

  /** Opens the connection, and keeps it open until {@link close}. */
  connect(): this {
    this.closedByUser = false;
    this.attempt = 0;
    void this.open();
    return this;
  }

  /** Closes for good: no reconnect. */
  close(): void {
    this.closedByUser = true;
    clearTimeout(this.timer);
    clearTimeout(this.pacing);
    this.unwatch();
    if (this.socket) {
      this.socket.close(1000, "client closed");
    }
    this.status({ state: "closed" });
  }

  /**
   * Drops the connection at once, as a dead network would: nothing more of it reaches the application, and the
   * client reconnects and resumes from its cursor (demos, tests).
   */
  drop(): void {
    const socket = this.socket;
    if (!socket) {
      return;
    }
    this.socket = null;
    socket.close(4000, "dropped by the client");
    this.scheduleReconnect(4000);
  }

  /** Sends a prompt (or any message) to the agent runtime. */
  sendUserMessage(threadId: string, data: unknown, runId?: string): void {
    const message: Record<string, unknown> = { type: "user_message", thread_id: threadId, data };
    if (runId) {
      message.run_id = runId;
    }
    this.send(message);
  }

  cancel(runId: string): void {
    this.send({ type: "cancel", run_id: runId });
  }

  join(room: string): void {
    this.send({ type: "join", room });
  }

  leave(room: string): void {
    this.send({ type: "leave", room });
  }

  /**
   * Sends a protocol message; queued while disconnected (at most 1,000; past that `onError` `queue_full` and the
   * message is not sent) and sent once a socket is welcome, in order, paced within the server's frame rate.
   */
  send(message: Record<string, unknown>): void {
    const text = JSON.stringify(message);
    if (this.queue.length === 0 && this.socket && this.socket.readyState === 1) {
      this.socket.send(text);
    } else if (this.queue.length >= QUEUE_MAX) {
      this.options.onError?.({ code: "queue_full", message: `${QUEUE_MAX} messages wait for a connection already` });
    } else {
      this.queue.push(text);
    }
  }

  /** Sends up to `budget` queued messages on a welcome socket, and the rest later, one per interval. */
  private flushQueue(socket: WebSocketLike, budget: number): void {
    clearTimeout(this.pacing);
    for (let sent = 0; sent < budget && this.queue.length > 0 && this.socket === socket && socket.readyState === 1;
      sent++) {
      socket.send(this.queue.shift()!);
    }
    if (this.queue.length > 0 && this.socket === socket && socket.readyState === 1) {
      this.pacing = setTimeout(() => this.flushQueue(socket, 1), QUEUE_INTERVAL_MS);
      (this.pacing as { unref?: () => void }).unref?.();
    }
  }

  private async open(): Promise<void> {
    this.status({ state: this.attempt === 0 ? "connecting" : "reconnecting", attempt: this.attempt });
    let token: string;
    try {
      token = await this.options.token();
    } catch (error) {
      // Said, not swallowed: the application's token source failed (retried, within the attempt bound).
      this.options.onError?.({ code: "token_failed", message: String((error as Error)?.message ?? error) });
      this.scheduleReconnect(undefined);
      return;
    }
    if (this.closedByUser) {
      return;
    }
    const url = new URL(this.options.url);
    url.searchParams.set("access_token", token);
    if (this.epoch !== null) {
      url.searchParams.set("epoch", String(this.epoch));
      url.searchParams.set("after", String(this.lastSeq));
    } else if (this.options.replayOnFirstConnect) {
      url.searchParams.set("after", "0");
    }
    // A new connection replays whole groups from the cursor: the parts of an unfinished one that this client
    // already delivered come again and are dropped by (seq, part) in deliverAgUi.
    const socket = new this.WebSocketImpl(url.toString());
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (message) => {
      if (this.socket === socket) {
        this.heardAt = Date.now();
        this.onMessage(message.data);
      }
    };
    this.watch(socket);
    socket.onerror = (event) => {
      // onclose follows and decides, unless the server refused the upgrade for good (a 401 or 403 on Node).
      const status = refusedFor(event);
      if (status !== null && this.socket === socket) {
        this.socket = null;
        this.fail(status === 401 ? "unauthorized" : status === 403 ? "forbidden" : "refused",
          `the server refused the connection with HTTP ${status}; check the token (see the server's log)`);
      }
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      if (this.closedByUser) {
        return;
      }
      if (FATAL_CLOSE_CODES.has(event.code)) {
        this.status({ state: "failed", code: event.code });
        return;
      }
      this.scheduleReconnect(event.code);
    };
  }

  /**
   * Watches a new socket: abandoned when still opening after connectTimeoutMs (tried again as after a failed
   * connect); once open, pinged every heartbeatMs and dropped when an interval after a ping brought nothing.
   */
  private watch(socket: WebSocketLike): void {
    this.unwatch();
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const everyMs = this.options.heartbeatMs ?? 20_000;
    this.heardAt = this.pingSentAt = Date.now();
    // On Node, timers of the client's own must not keep the process alive.
    const unref = (timer: unknown) => (timer as { unref?: () => void }).unref?.();
    if (timeoutMs > 0) {
      this.opening = setTimeout(() => {
        if (this.socket === socket && socket.readyState === 0) {
          this.socket = null;
          // Closing a socket still opening fails it: its error and close events find it replaced, and do nothing.
          socket.close();
          this.options.onError?.({ code: "connect_timeout", message: `the socket did not open in ${timeoutMs} ms` });
          this.scheduleReconnect(undefined);
        }
      }, timeoutMs);
      unref(this.opening);
    }
    if (everyMs > 0) {
      this.heartbeat = setInterval(() => {
        if (this.socket !== socket || socket.readyState !== 1) {
          return; // replaced, or still opening (the timeout above decides)
        }
        if (this.heardAt < this.pingSentAt) {
          this.drop();
          return;
        }
        this.pingSentAt = Date.now();
        socket.send('{"type":"ping"}');
      }, everyMs);
      unref(this.heartbeat);
    }
  }

  private unwatch(): void {
    clearTimeout(this.opening);
    clearInterval(this.heartbeat);
  }

  /** Stops for good: the status says failed and onError says why. */
  private fail(code: string, message: string): void {
    this.unwatch();
    this.closedByUser = true;
    this.options.onError?.({ code, message });
    this.status({ state: "failed" });
  }

  private scheduleReconnect(code: number | undefined): void {
    if (this.attempt + 1 >= (this.options.maxConnectAttempts ?? 8)) {
      this.fail("connect_failed", `${this.attempt + 1} connects in a row failed before the server welcomed one ` +
        "(a refused token fails before the socket opens)");
      return;
    }
    const base = Math.min(this.options.maxBackoffMs ?? 10_000,
      (this.options.initialBackoffMs ?? 250) * Math.pow(2, this.attempt));
    // Full jitter in [base/2, base]: reconnecting clients do not arrive in lockstep.
    const delayMs = Math.round(base / 2 + Math.random() * base / 2);
    this.attempt++;
    this.status({ state: "waiting", attempt: this.attempt, delayMs, code });
    this.timer = setTimeout(() => void this.open(), delayMs);
  }

  private onMessage(data: unknown): void {
    if (typeof data !== "string") {
      if (!this.agUi) {
        this.onBinary(data as ArrayBuffer);
      }
      return;
    }
    const m = JSON.parse(data) as Record<string, unknown>;
    if (this.agUi) {
      if (m.type === "CUSTOM" && typeof m.name === "string" && m.name.startsWith("agentwire.") && !m.metadata) {
        const value = (m.value ?? {}) as Record<string, unknown>;
        this.onControlFrame({ ...value, type: m.name.substring("agentwire.".length) });
        return;
      }
      this.deliverAgUi(m as AgUiEvent);
      return;
    }
    if (typeof m.seq === "number" && m.type !== "welcome") {
      this.deliver(m as unknown as AgentWireEvent);
      return;
    }
    this.onControlFrame(m);
  }

  private onControlFrame(m: Record<string, unknown>): void {
    switch (m.type) {
      case "welcome":
        this.attempt = 0;
        if (this.epoch === null) {
          this.epoch = m.epoch as number;
          this.lastSeq = this.options.replayOnFirstConnect ? 0 : (m.seq as number);
        }
        this.status({ state: "connected" });
        this.options.onControl?.(m);
        if (this.socket) {
          this.flushQueue(this.socket, QUEUE_BURST);
        }
        return;
      case "resumed":
        this.epoch = m.epoch as number;
        // What follows starts at m.from: when history was lost the gap is reported, never hidden.
        this.lastSeq = (m.from as number) - 1;
        this.options.onResumed?.({
          recovered: m.recovered as boolean, from: m.from as number, to: m.to as number, epoch: m.epoch as number,
        });
        return;
      case "error":
        this.options.onError?.({ code: m.code as string, message: m.message as string });
        return;
      default:
        this.options.onControl?.(m);
    }
  }

  private deliver(event: AgentWireEvent): void {
    if (this.epoch === event.epoch && event.seq <= this.lastSeq) {
      return; // already seen: a duplicate never reaches the application
    }
    this.epoch = event.epoch;
    this.lastSeq = event.seq;
    this.emit(event.type, event as unknown as E);
  }

  private deliverAgUi(event: AgUiEvent): void {
    const cursor = event.metadata?.agentwire;
    if (!cursor || cursor.prelude) {
      this.emit(event.type, event as unknown as E); // a prelude opens a run; it moves no cursor
      return;
    }
    if (this.epoch === cursor.epoch && cursor.seq <= this.lastSeq) {
      return;
    }
    const part = cursor.part ?? 0;
    const parts = cursor.parts ?? 1;
    if (this.epoch === cursor.epoch && cursor.seq === this.partialSeq && part < this.partsDelivered) {
      return; // a part this client already has, sent again after a reconnect
    }
    this.epoch = cursor.epoch;
    this.partialSeq = cursor.seq;
    this.partsDelivered = part + 1;
    if (part + 1 >= parts) {
      this.lastSeq = cursor.seq;
    }
    this.emit(event.type, event as unknown as E);
  }

  private emit(type: string, event: E): void {
    this.on[type]?.(event);
    this.options.onEvent?.(event);
  }

  /** Binary event frames (docs/PROTOCOL.md): header then payload. */
  private onBinary(buffer: ArrayBuffer): void {
    const view = new DataView(buffer);
    if (view.getUint16(0) !== 0x4157) {
      return;
    }
    const flags = view.getUint8(3);
    const headerLength = view.getUint16(4);
    const decoder = new TextDecoder();
    let offset = 30;
    const readString = (): string | null => {
      const length = view.getUint16(offset);
      offset += 2;
      const value = decoder.decode(new Uint8Array(buffer, offset, length));
      offset += length;
      return length === 0 ? null : value;
    };
    const event: AgentWireEvent = {
      seq: Number(view.getBigInt64(6)),
      epoch: Number(view.getBigInt64(14)),
      ts: Number(view.getBigInt64(22)),
      binary: true,
      type: "",
      data: null,
    };
    event.type = readString() ?? "";
    event.run_id = readString();
    event.thread_id = readString();
    event.id = readString();
    const room = readString();
    if (room !== null) {
      event.room = room;
    }
    event.broadcast = (flags & 2) !== 0;
    event.data = new Uint8Array(buffer, headerLength);
    this.deliver(event);
  }

  private status(status: ConnectionStatus): void {
    this.options.onStatus?.(status);
  }
}
