#!/usr/bin/env bash
# The soak: many connections held for minutes at a steady rate against the server as bin/agentwire starts it
# (bin/jvm.options: ZGC, freed heap handed back after a second; the 1 GiB soft max heap that serve sets), with the
# server's heap in use, its PSS and the p99 of each 10 s step read and plotted (soak-agentwire.png,
# soak-agentwire.md: the samples each minute and the slope of each over the second half).
# Server pinned to core 0, the load tool to core 1, as compare.sh.
#
#   benchmarks/soak.sh                                     # 10,000 connections, 10,000 events/s, 10 minutes
#   CONNS=1000 RATE=2000 MINUTES=2 benchmarks/soak.sh      # a quick look
#   LABEL=zgc-soft1g AGENTWIRE_JAVA_OPTS="-XX:+UseZGC -XX:SoftMaxHeapSize=1g" benchmarks/soak.sh   # other flags
#   LABEL=agent EVENTS=agent benchmarks/soak.sh           # agent events: an id each, in a run per user (LoadTool)
#
# Never run in CI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/benchmarks/results/soak-$(date +%F)}"
CONNS="${CONNS:-10000}"
RATE="${RATE:-10000}"
MINUTES="${MINUTES:-10}"
STEP_SECONDS=10
WORKLOAD="${WORKLOAD:-unicast}"
# plain (LoadTool's custom events) or agent (agent_thinking with ids, in runs).
EVENTS="${EVENTS:-plain}"
# Names the files (soak-$LABEL.*); AGENTWIRE_JAVA_OPTS, if set, reaches bin/agentwire as it would in production.
LABEL="${LABEL:-agentwire}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
JAR="$ROOT/benchmarks/target/benchmarks.jar"
SECRET="soak-secret-soak-secret-soak-secret-0123456789"
KEY="soak-producer-key-0123456789"
PORT=18740

ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT"
[ -f "$JAR" ] && [ -f "$ROOT/server/target/agentwire.jar" ] || (cd "$ROOT" && mvn -q -B -ntp -DskipTests package)

# bin/agentwire itself, so the runtime is the one users get; only the limits a load test must lift are set.
AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" taskset -c "$SERVER_CPU" "$ROOT/bin/agentwire" serve \
    --port "$PORT" --producer-rate 100000000 --producer-burst 100000000 --max-connections-per-ip 1000000 \
    --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 --inbound-rate 1000 \
    >"$OUT/server-$LABEL.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

steps=$((MINUTES * 60 / STEP_SECONDS))
rates="$(for _ in $(seq 1 "$steps"); do printf '%s,' "$RATE"; done)"
rates="${rates%,}"
taskset -c "$CLIENT_CPU" java -Xmx4g -cp "$JAR" dev.agentwire.bench.LoadTool --target agentwire --label "$LABEL" \
    --base "http://127.0.0.1:$PORT" --connections "$CONNS" --workload "$WORKLOAD" --events "$EVENTS" --rates "$rates" \
    --step-seconds "$STEP_SECONDS" --warmup-seconds 30 --max-failed-steps 0 --jwt-secret "$SECRET" \
    --producer-key "$KEY" --server-pid "$pid" --sample-heap --out "$OUT/soak-$LABEL.json" | tee "$OUT/load-$LABEL.txt"
kill "$pid"
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
trap - EXIT
java -cp "$JAR" dev.agentwire.bench.SoakReport "$OUT/soak-$LABEL.json" "$OUT" "$STEP_SECONDS"
