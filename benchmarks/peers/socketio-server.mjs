// Socket.IO 4 peer: users connect with ?user=U over the websocket transport and join a room named after
// themselves, the idiomatic per-user fan-out; events are emitted as "event".
import http from "node:http";
import { Server } from "socket.io";
import { createIngest, portFromArgs } from "./common.mjs";

let io;
const users = new Map();
const ingest = createIngest(
  (user, frame) => io.to("user:" + user).emit("event", frame),
  () => users.keys());

const server = http.createServer((req, res) => {
  if (!ingest(req, res)) {
    res.writeHead(404).end();
  }
});
io = new Server(server, { transports: ["websocket"], perMessageDeflate: false, serveClient: false });
io.on("connection", (socket) => {
  const user = socket.handshake.query.user || "anonymous";
  socket.join("user:" + user);
  users.set(user, (users.get(user) || 0) + 1);
  socket.on("disconnect", () => {
    const n = users.get(user) - 1;
    if (n <= 0) {
      users.delete(user);
    } else {
      users.set(user, n);
    }
  });
});
server.listen(portFromArgs(8093), "127.0.0.1", () => console.log("socket.io peer listening on", server.address().port));
process.on("SIGTERM", () => process.exit(0));
