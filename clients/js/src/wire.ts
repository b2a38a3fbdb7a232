// The types of AgentWire's wire and of the sockets its client drives: types only, so the client's compiled
// agentwire.js imports nothing and is served to browsers as it stands (/clients/agentwire.js).

/** An event of /v1/ws. */
export interface AgentWireEvent {
  type: string;
  seq: number;
  epoch: number;
  id?: string | null;
  run_id?: string | null;
  thread_id?: string | null;
  room?: string;
  broadcast?: boolean;
  ts?: number;
  binary?: boolean;
  data: unknown;
}

/** The cursor an AG-UI event carries in `metadata.agentwire` (docs/AG-UI.md). */
export interface AgUiCursor {
  seq: number;
  epoch: number;
  runId?: string;
  threadId?: string;
  room?: string;
  broadcast?: boolean;
  id?: string;
  /** Which of the AgentWire event's AG-UI events this is (0-based), and how many it has. */
  part?: number;
  parts?: number;
  /** A RUN_STARTED synthesized for a client that joined a run midway. */
  prelude?: boolean;
}

/** An event of /v1/ag-ui: an AG-UI event whose metadata carries its AgentWire cursor. */
export interface AgUiEvent {
  type: string;
  metadata?: { agentwire?: AgUiCursor; [key: string]: unknown };
  [field: string]: unknown;
}

export interface ConnectionStatus {
  state: "connecting" | "connected" | "waiting" | "reconnecting" | "failed" | "closed";
  attempt?: number;
  delayMs?: number;
  code?: number;
}

export interface ResumeOutcome {
  recovered: boolean;
  from: number;
  to: number;
  epoch: number;
}

/**
 * A socket's event handler, checked both ways: the browser's WebSocket and the ws package each type their events
 * with more fields than the client reads, and a plain function type would refuse them (a `(e: ws.MessageEvent)`
 * handler is not a `(e: { data: unknown })` one under strictFunctionTypes).
 */
type SocketHandler<E> = { handle(event: E): void }["handle"];

/** The minimal WebSocket the client needs (the browser's, or Node's `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onmessage: SocketHandler<{ data: unknown }> | null;
  onclose: SocketHandler<{ code: number; reason?: string }> | null;
  onerror: SocketHandler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;
