// The HTTP surface every peer shares with AgentWire, so the load tool drives them all the same way:
//   POST /v1/events                         a JSON array of {user | room | broadcast, type, data}
//   PUT  /v1/rooms/{room}/members/{user}    room membership
// `deliver(user, frame)` is the peer's own send to that user's sockets.

export function createIngest(deliverToUser, connectedUsers) {
  const rooms = new Map();
  const seqs = new Map();

  function frameFor(user, event, room) {
    const seq = (seqs.get(user) || 0) + 1;
    seqs.set(user, seq);
    return { type: event.type, seq, room, data: event.data };
  }

  function publish(event) {
    if (event.user) {
      deliverToUser(event.user, frameFor(event.user, event));
    } else if (event.room) {
      for (const member of rooms.get(event.room) || []) {
        deliverToUser(member, frameFor(member, event, event.room));
      }
    } else {
      for (const user of connectedUsers()) {
        deliverToUser(user, frameFor(user, event));
      }
    }
  }

  return function handle(req, res) {
    const member = req.method === "PUT" && req.url.match(/^\/v1\/rooms\/([^/]+)\/members\/([^/?]+)/);
    if (member) {
      const room = decodeURIComponent(member[1]);
      if (!rooms.has(room)) {
        rooms.set(room, new Set());
      }
      rooms.get(room).add(decodeURIComponent(member[2]));
      res.writeHead(204).end();
      return true;
    }
    if (req.method === "POST" && req.url.startsWith("/v1/events")) {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        try {
          const events = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          for (const event of events) {
            publish(event);
          }
          res.writeHead(202, { "content-type": "application/json" }).end(`{"accepted":${events.length}}`);
        } catch (err) {
          res.writeHead(400).end(String(err));
        }
      });
      return true;
    }
    return false;
  };
}

export function portFromArgs(defaultPort) {
  return Number(process.argv[2] || defaultPort);
}
