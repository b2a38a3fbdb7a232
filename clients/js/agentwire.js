// AgentWire JavaScript client: a small, dependency-free ES module for browsers (and any runtime with WebSocket).
// Wire contract: docs/PROTOCOL.md. Connects with a token, reconnects with jittered exponential backoff, resumes
// from the last (epoch, seq) it saw, drops duplicates, and tells the application when history was lost.

const AGENT_EVENTS = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"];

// Close codes after which reconnecting cannot help: the client itself must change.
const FATAL_CLOSE_CODES = new Set([1008, 1009, 4003]);

export class AgentWireClient {
  /**
   * @param {object} options
   * @param {string} options.url            ws(s)://host:port/v1/ws
   * @param {() => (string|Promise<string>)} options.token  returns a token; called before every (re)connect
   * @param {object} [options.on]           callbacks per event type: { agent_started(e) {...}, "app.note"(e) {...} }
   * @param {(e: object) => void} [options.onEvent]          every event, after the typed callback
   * @param {(s: {state: string, attempt?: number, delayMs?: number, code?: number}) => void} [options.onStatus]
   * @param {(r: {recovered: boolean, from: number, to: number, epoch: number}) => void} [options.onResumed]
   * @param {(e: {code: string, message: string}) => void} [options.onError]   error frames from the server
   * @param {(m: object) => void} [options.onControl]         welcome, joined, left, pong
   * @param {boolean} [options.replayOnFirstConnect=false]   first connect asks for all kept history (after=0)
   * @param {number} [options.initialBackoffMs=250]
   * @param {number} [options.maxBackoffMs=10000]
   * @param {typeof WebSocket} [options.WebSocketImpl]
   */
  constructor(options) {
    if (!options || !options.url || !options.token) {
      throw new Error("AgentWireClient needs url and token");
    }
    this.options = options;
    this.on = options.on || {};
    this.epoch = null;
    this.lastSeq = 0;
    this.socket = null;
    this.attempt = 0;
    this.closedByUser = false;
    this.timer = null;
    this.queue = [];
    this.WebSocketImpl = options.WebSocketImpl || globalThis.WebSocket;
  }

  /** The cursor to resume from: { epoch, seq }. */
  get cursor() {
    return { epoch: this.epoch, seq: this.lastSeq };
  }

  /** Opens the connection (and keeps it open until close()). */
  connect() {
    this.closedByUser = false;
    this._open();
    return this;
  }

  /** Closes for good: no reconnect. */
  close() {
    this.closedByUser = true;
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.close(1000, "client closed");
    }
    this._status({ state: "closed" });
  }

  /** Sends a prompt (or any message) to the agent runtime. */
  sendUserMessage(threadId, data, runId) {
    const message = { type: "user_message", thread_id: threadId, data };
    if (runId) {
      message.run_id = runId;
    }
    this.send(message);
  }

  cancel(runId) {
    this.send({ type: "cancel", run_id: runId });
  }

  join(room) {
    this.send({ type: "join", room });
  }

  leave(room) {
    this.send({ type: "leave", room });
  }

  /** Sends a raw protocol message; queued while disconnected and flushed on reconnect. */
  send(message) {
    const text = JSON.stringify(message);
    if (this.socket && this.socket.readyState === 1) {
      this.socket.send(text);
    } else {
      this.queue.push(text);
    }
  }

  async _open() {
    this._status({ state: this.attempt === 0 ? "connecting" : "reconnecting", attempt: this.attempt });
    let token;
    try {
      token = await this.options.token();
    } catch (err) {
      this._scheduleReconnect(undefined);
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
    const socket = new this.WebSocketImpl(url.toString());
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (message) => this._onMessage(message);
    socket.onclose = (event) => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      if (this.closedByUser) {
        return;
      }
      if (FATAL_CLOSE_CODES.has(event.code)) {
        this._status({ state: "failed", code: event.code });
        return;
      }
      this._scheduleReconnect(event.code);
    };
  }

  _scheduleReconnect(code) {
    const base = Math.min(this.options.maxBackoffMs || 10000,
      (this.options.initialBackoffMs || 250) * Math.pow(2, this.attempt));
    // Full jitter in [base/2, base]: reconnecting clients do not arrive in lockstep.
    const delayMs = Math.round(base / 2 + Math.random() * base / 2);
    this.attempt++;
    this._status({ state: "waiting", attempt: this.attempt, delayMs, code });
    this.timer = setTimeout(() => this._open(), delayMs);
  }

  _onMessage(message) {
    if (typeof message.data !== "string") {
      this._onBinary(message.data);
      return;
    }
    const m = JSON.parse(message.data);
    switch (m.type) {
      case "welcome":
        this.attempt = 0;
        if (this.epoch === null) {
          this.epoch = m.epoch;
          this.lastSeq = this.options.replayOnFirstConnect ? 0 : m.seq;
        }
        this._status({ state: "connected" });
        this._control(m);
        while (this.queue.length > 0 && this.socket && this.socket.readyState === 1) {
          this.socket.send(this.queue.shift());
        }
        return;
      case "resumed":
        this.epoch = m.epoch;
        // What follows starts at m.from: when history was lost the gap is reported, never hidden.
        this.lastSeq = m.from - 1;
        if (this.options.onResumed) {
          this.options.onResumed({ recovered: m.recovered, from: m.from, to: m.to, epoch: m.epoch });
        }
        return;
      case "error":
        if (this.options.onError) {
          this.options.onError({ code: m.code, message: m.message });
        }
        return;
      case "joined":
      case "left":
      case "pong":
        this._control(m);
        return;
      default:
        if (typeof m.seq === "number") {
          this._deliver(m);
        }
    }
  }

  _deliver(event) {
    if (this.epoch === event.epoch && event.seq <= this.lastSeq) {
      return; // already seen: a duplicate never reaches the application
    }
    this.epoch = event.epoch;
    this.lastSeq = event.seq;
    const typed = this.on[event.type];
    if (typed) {
      typed(event);
    }
    if (this.options.onEvent) {
      this.options.onEvent(event);
    }
  }

  /** Binary event frames (docs/PROTOCOL.md): header then payload. */
  _onBinary(buffer) {
    const view = new DataView(buffer);
    if (view.getUint16(0) !== 0x4157) {
      return;
    }
    const flags = view.getUint8(3);
    const headerLength = view.getUint16(4);
    const decoder = new TextDecoder();
    let offset = 30;
    const readString = () => {
      const length = view.getUint16(offset);
      offset += 2;
      const value = decoder.decode(new Uint8Array(buffer, offset, length));
      offset += length;
      return length === 0 ? null : value;
    };
    const event = {
      seq: Number(view.getBigInt64(6)),
      epoch: Number(view.getBigInt64(14)),
      ts: Number(view.getBigInt64(22)),
      binary: true,
    };
    event.type = readString();
    event.run_id = readString();
    event.thread_id = readString();
    event.id = readString();
    event.room = readString();
    event.broadcast = (flags & 2) !== 0;
    event.data = new Uint8Array(buffer, headerLength);
    this._deliver(event);
  }

  _control(message) {
    if (this.options.onControl) {
      this.options.onControl(message);
    }
  }

  _status(status) {
    if (this.options.onStatus) {
      this.options.onStatus(status);
    }
  }
}

export { AGENT_EVENTS };
