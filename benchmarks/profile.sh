#!/usr/bin/env bash
# Profiles the AgentWire server under the end-to-end load with JFR (async-profiler is not available here):
# starts the server with a flight recording, drives one workload at one rate, then prints where the server's
# CPU samples fall (top frames, by thread), the GC pauses of the recording, and the bytes allocated per event
# (benchmarks/alloc-per-event.py), and each thread's CPU time and wake-ups over the step (benchmarks/thread-cpu.sh).
#
#   benchmarks/profile.sh                                   # unicast, 10,000 connections, 5,000 events/s, 30 s
#   CONNS=1000 RATE=2000 WORKLOAD=room10 benchmarks/profile.sh
#   TARGET=agentwire-agui CONNS=1000 RATE=10000 benchmarks/profile.sh   # the AG-UI socket
#   REDIS=1 CONNS=1000 RATE=10000 SAMPLE_MS=1 benchmarks/profile.sh     # a cluster node over its own Redis, sampled
#                                                                        # every millisecond (JFR's profile: 10 ms)
#   EVENTS=agent CONNS=1000 RATE=30000 benchmarks/profile.sh             # agent events: ids, in runs (LoadTool)
#
# The server records debug information at every instruction (-XX:+DebugNonSafepoints): without it JFR names, for
# a sample in compiled code, the nearest method with a debug point, often one inlined nearby (2026-12-06: 14% of a
# slice's samples named a method that had 1.3% with it).
# Never run in CI. Writes $OUT/agentwire.jfr and $OUT/profile.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/benchmarks/results/profile-$(date +%F)}"
CONNS="${CONNS:-10000}"
# The user protocol profiled: agentwire (/v1/ws) or agentwire-agui (/v1/ag-ui).
TARGET="${TARGET:-agentwire}"
WORKLOAD="${WORKLOAD:-unicast}"
# plain (LoadTool's custom events) or agent (agent_thinking with ids, in runs).
EVENTS="${EVENTS:-plain}"
RATE="${RATE:-5000}"
SECONDS_TO_RECORD="${SECONDS_TO_RECORD:-30}"
SERVER_CPU="${SERVER_CPU:-0}"
# JVM options of the profiled server (default: bin/jvm.options, as bin/agentwire starts it).
SERVER_OPTS="${SERVER_OPTS:-@$ROOT/bin/jvm.options}"
CLIENT_CPU="${CLIENT_CPU:-1}"
# 1: the node runs in cluster mode over a redis-server started here, on the server's core (as cluster.sh's node+redis).
REDIS="${REDIS:-0}"
# JFR's method-sampling period in ms (its profile settings: 10).
SAMPLE_MS="${SAMPLE_MS:-10}"
REDIS_PORT=18721
JAR="$ROOT/benchmarks/target/benchmarks.jar"
SERVER_JAR="$ROOT/server/target/agentwire.jar"
SECRET="profile-secret-profile-secret-0123456789"
KEY="profile-producer-key-0123456789"
PORT=18720

ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT"
[ -f "$JAR" ] && [ -f "$SERVER_JAR" ] || (cd "$ROOT" && mvn -q -B -ntp -DskipTests package)

SETTINGS="$OUT/sampling.jfc"
JFC="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")/lib/jfr/profile.jfc"
# JFR's profile settings with the method-sampling period set (only jdk.ExecutionSample's period changes).
awk -v ms="$SAMPLE_MS" '/<event name="jdk.ExecutionSample">/ {s=1}
    s && /<setting name="period"/ {sub(/>[^<]*</, ">" ms " ms<"); s=0} {print}' "$JFC" > "$SETTINGS"

redis_url=""
redis_pid=0
if [ "$REDIS" = 1 ]; then
    command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install -y redis-server" >&2; exit 2; }
    mkdir -p "$OUT/redis"
    taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$OUT/redis" --save "" \
        --appendonly yes --appendfsync everysec --maxmemory-policy noeviction >"$OUT/redis.log" 2>&1 &
    redis_pid=$!
    redis_url="redis://127.0.0.1:$REDIS_PORT"
    for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null && break; sleep 0.1; done
fi

AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" AGENTWIRE_REDIS_URL="$redis_url" taskset -c "$SERVER_CPU" \
    java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx4g ${SERVER_OPTS} \
    -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
    -XX:StartFlightRecording=filename="$OUT/agentwire.jfr",settings="$SETTINGS",dumponexit=true \
    -jar "$SERVER_JAR" serve --port "$PORT" --producer-rate 100000000 --producer-burst 100000000 \
    --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 \
    --inbound-rate 1000 \
    >"$OUT/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; [ "$redis_pid" = 0 ] || kill "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

# Each thread's CPU over the measured step's middle (after the 10 s warm-up and 2 s of the step).
threads_window=$((SECONDS_TO_RECORD > 5 ? SECONDS_TO_RECORD - 4 : 1))
taskset -c "$CLIENT_CPU" "$ROOT/benchmarks/thread-cpu.sh" "$pid" "$threads_window" 12 >"$OUT/threads.txt" &
threads_pid=$!
taskset -c "$CLIENT_CPU" java -Xmx4g -cp "$JAR" dev.agentwire.bench.LoadTool --target "$TARGET" \
    --base "http://127.0.0.1:$PORT" --connections "$CONNS" --workload "$WORKLOAD" --events "$EVENTS" --rates "$RATE" \
    --step-seconds "$SECONDS_TO_RECORD" --warmup-seconds 10 --jwt-secret "$SECRET" --producer-key "$KEY" \
    --server-pid "$pid" --redis-pid "$redis_pid" | tee "$OUT/load.txt"
wait "$threads_pid" || true
kill "$pid"
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
[ "$redis_pid" = 0 ] || kill "$redis_pid"
trap - EXIT

{
    cat "$OUT/threads.txt"
    echo
    echo "# CPU samples by thread (top 10)"
    jfr print --events jdk.ExecutionSample "$OUT/agentwire.jfr" \
        | grep -E '^\s+sampledThread = ' | sed -E 's/.*= "([^"]*)".*/\1/; s/-[0-9]+$/-N/; s/ [0-9]+$//' \
        | sort | uniq -c | sort -rn | head -10
    echo
    echo "# CPU samples by top frame (top 30)"
    jfr print --events jdk.ExecutionSample --stack-depth 1 "$OUT/agentwire.jfr" \
        | grep -A1 'stackTrace = \[' | grep -v -E 'stackTrace|^--' | sed -E 's/^\s+//; s/line:.*//' \
        | sort | uniq -c | sort -rn | head -30
    echo
    echo "# CPU samples by frame anywhere in the first 12 frames, AgentWire's own code (top 30)"
    jfr print --events jdk.ExecutionSample --stack-depth 12 "$OUT/agentwire.jfr" \
        | grep -E '^\s+dev\.agentwire\.' | sed -E 's/^\s+//; s/line:.*//' \
        | sort | uniq -c | sort -rn | head -30
    echo
    echo "# GC pauses"
    jfr print --events jdk.GCPhasePause "$OUT/agentwire.jfr" | grep -E '^\s+duration = ' \
        | awk '{v=$3; u=$4; if (u=="s") v*=1000; else if (u=="us") v/=1000; else if (u=="ns") v/=1000000;
                n++; s+=v; if (v>m) m=v}
               END {printf "count=%d total=%.1f ms max=%.1f ms\n", n, s, m}'
    jfr summary "$OUT/agentwire.jfr" | grep -E 'jdk.GarbageCollection |jdk.ObjectAllocationSample |jdk.ExecutionSample '
    echo
    echo "# Allocation per event offered, the measured step's last $((SECONDS_TO_RECORD * 5 / 6)) s (JFR's samples)"
    python3 "$ROOT/benchmarks/alloc-per-event.py" "$OUT/agentwire.jfr" $((SECONDS_TO_RECORD * 5 / 6)) "$RATE" 25
} | tee "$OUT/profile.txt"
