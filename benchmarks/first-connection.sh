#!/usr/bin/env bash
# How long a cold server's first user connections take: the server started fresh (bin/jvm.options, core 0), then
# five users connect one after another (core 1), each timed from its TCP connect to its first frame (the welcome).
# Each jar is measured ROUNDS times, interleaved (A B, A B, ...).
#
#   benchmarks/first-connection.sh                                   # this build
#   JARS="/tmp/before/agentwire.jar server/target/agentwire.jar" ROUNDS=5 benchmarks/first-connection.sh
#
# Never run in CI. Needs Debian's python3-websockets (apt-get install -y python3-websockets).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JARS="${JARS:-$ROOT/server/target/agentwire.jar}"
ROUNDS="${ROUNDS:-3}"
PORT="${PORT:-18750}"
SECRET="first-connection-secret-0123456789abcdef"
PYTHON="${PYTHON:-/usr/bin/python3}"
"$PYTHON" -c 'import websockets' 2>/dev/null || { echo "needs python3-websockets for $PYTHON" >&2; exit 2; }

probe() { # port -> "ms ms ms ms ms"
    taskset -c 1 "$PYTHON" - "$1" "$SECRET" <<'PY'
import asyncio, base64, hashlib, hmac, json, sys, time
import websockets
port, secret = int(sys.argv[1]), sys.argv[2].encode()
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def token(user):
    signed = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + \
        b64(json.dumps({"sub": user, "exp": int(time.time()) + 3600}).encode())
    return signed + "." + b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())
async def main():
    took = []
    for i in range(5):
        start = time.perf_counter()
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/ws?access_token={token('first-' + str(i))}",
                                      ping_interval=None) as socket:
            await socket.recv()
            took.append((time.perf_counter() - start) * 1000)
    print(" ".join(f"{ms:.1f}" for ms in took))
asyncio.run(main())
PY
}

echo "# first five connections of a fresh server, ms each (TCP connect to welcome frame)"
for round in $(seq 1 "$ROUNDS"); do
    for jar in $JARS; do
        AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="first-connection-producer-key" taskset -c 0 \
            java @"$ROOT/bin/jvm.options" --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -jar "$jar" \
            serve --port "$PORT" >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
        sleep 2 # past start: what is measured is the first user's wait, not the server's own start
        echo "round $round $jar: $(probe "$PORT")"
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
done
