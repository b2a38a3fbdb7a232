// Plain `ws` peer: users connect to /v1/ws?user=U; events are sent to each of the user's sockets.
import http from "node:http";
import { WebSocketServer } from "ws";
import { createIngest, portFromArgs } from "./common.mjs";

const sockets = new Map();
const ingest = createIngest(
  (user, frame) => {
    const set = sockets.get(user);
    if (set) {
      const text = JSON.stringify(frame);
      for (const socket of set) {
        socket.send(text);
      }
    }
  },
  () => sockets.keys());

const server = http.createServer((req, res) => {
  if (!ingest(req, res)) {
    res.writeHead(404).end();
  }
});
const wss = new WebSocketServer({ server, path: "/v1/ws", perMessageDeflate: false });
wss.on("connection", (socket, req) => {
  const user = new URL(req.url, "http://localhost").searchParams.get("user") || "anonymous";
  if (!sockets.has(user)) {
    sockets.set(user, new Set());
  }
  sockets.get(user).add(socket);
  socket.on("close", () => {
    const set = sockets.get(user);
    set.delete(socket);
    if (set.size === 0) {
      sockets.delete(user);
    }
  });
  socket.send(JSON.stringify({ type: "welcome", user }));
});
server.listen(portFromArgs(8092), "127.0.0.1", () => console.log("ws peer listening on", server.address().port));
process.on("SIGTERM", () => process.exit(0));
