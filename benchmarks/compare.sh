#!/usr/bin/env bash
# Side-by-side end-to-end comparison: AgentWire, the raw NIO floor, a bare Undertow floor, plain ws and Socket.IO, driven by the same
# load tool over loopback, interleaved (A B C D, A B C D, ...), server pinned to core 0 and the load tool to core 1.
# Writes raw JSON per run, then results.md, results.json and p99-<workload>-<connections>.png into $OUT.
#
#   benchmarks/compare.sh                          # full: 1k and 10k connections, three workloads, 3 repetitions
#   CONNS=1000 WORKLOADS=unicast REPS=1 benchmarks/compare.sh      # a quick look
#   PEERS="agentwire agentwire-g1 agentwire-jdk25" benchmarks/compare.sh   # AgentWire on other runtimes
#   PEERS="agentwire agentwire-agui" benchmarks/compare.sh   # the same server's /v1/ws against its /v1/ag-ui
#   RATES=1000,2000,5000,1000,2000,5000 PEERS="agentwire ws" benchmarks/compare.sh   # a ladder of your own; a
#                                                  # rate given twice is run twice (results.md pools them: read raw/)
#   BASELINE_JAR=/tmp/agentwire-before.jar PEERS="agentwire-baseline agentwire ws" benchmarks/compare.sh
#                                                  # a step's before and after in one run (the jar of an earlier build)
#
# Never run in CI (the CI smoke is LoadToolSmokeTest). Needs Node (npm installs ws and socket.io into .bench/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/benchmarks/results/compare-$(date +%F)}"
CONNS="${CONNS:-1000 10000}"
WORKLOADS="${WORKLOADS:-unicast room10 broadcast}"
REPS="${REPS:-3}"
PEERS="${PEERS:-agentwire raw floor ws socketio}"
STEP_SECONDS="${STEP_SECONDS:-5}"
WARMUP_SECONDS="${WARMUP_SECONDS:-30}"
SERVER_CPU="${SERVER_CPU:-0}"
# Every JVM server runs as bin/agentwire starts AgentWire (bin/jvm.options: ZGC, freed heap returned after a second)
# unless SERVER_GC says otherwise.
SERVER_GC="${SERVER_GC:-@$ROOT/bin/jvm.options}"
CLIENT_CPU="${CLIENT_CPU:-1}"
JAR="$ROOT/benchmarks/target/benchmarks.jar"
SERVER_JAR="$ROOT/server/target/agentwire.jar"
# The server jar of the agentwire-baseline peer (an earlier build, on bin/agentwire's default runtime).
BASELINE_JAR="${BASELINE_JAR:-}"
case " $PEERS " in *" agentwire-baseline "*) [ -f "$BASELINE_JAR" ] || {
    echo "agentwire-baseline needs BASELINE_JAR=<an earlier build's agentwire.jar>" >&2; exit 2; } ;; esac
SECRET="compare-secret-compare-secret-0123456789"
KEY="compare-producer-key-0123456789"
PORT=18700

ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT/raw"
(cd "$ROOT" && mvn -q -B -ntp -DskipTests package)
mkdir -p "$ROOT/.bench/peers"
cp "$ROOT"/benchmarks/peers/*.mjs "$ROOT"/benchmarks/peers/package.json "$ROOT/.bench/peers/"
(cd "$ROOT/.bench/peers" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

rates_for() { # workload connections -> the ladder of offered events/s (RATES, when set, for every workload)
    if [ -n "${RATES:-}" ]; then echo "$RATES"; return; fi
    case "$1" in
        unicast) echo "1000,2000,5000,10000,20000,30000,40000,60000,80000,100000" ;;
        room10) echo "200,500,1000,2000,3000,4000,6000,8000,10000" ;;
        broadcast) if [ "$2" -ge 10000 ]; then echo "1,2,5,10,20,50"; else echo "5,10,20,50,100,200,500"; fi ;;
    esac
}

# AgentWire under other runtimes, as peers of their own: agentwire-g1 (JDK 17, G1), agentwire-jdk25 (JDK 25,
# generational ZGC, compact object headers), agentwire-jdk25-g1.
JDK25="${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
runtime_of() { # peer -> the java command and collector flags
    case "$1" in
        agentwire|agentwire-agui|agentwire-baseline) echo "java ${SERVER_GC:-}" ;;
        agentwire-g1) echo "java -XX:+UseG1GC" ;;
        # bin/agentwire's runtime until 2026-12-06: ZGC as it comes (freed heap kept committed for 300 s).
        agentwire-zgc) echo "java -XX:+UseZGC" ;;
        agentwire-zgc-uncommit) echo "java -XX:+UseZGC -Xms64m -XX:ZUncommitDelay=1" ;;
        # bin/jvm.options with glibc's freed native memory trimmed back every 5 s (measured, not adopted: README).
        agentwire-trim) echo "java ${SERVER_GC:-} -XX:TrimNativeHeapInterval=5000" ;;
        agentwire-zgc-soft) echo "java -XX:+UseZGC -Xms32m -XX:SoftMaxHeapSize=256m -XX:ZUncommitDelay=1" ;;
        # The soft max agentwire serve sets by itself since 2026-12-04 (HeapPolicy), given as a flag.
        agentwire-zgc-soft1g) echo "java -XX:+UseZGC -XX:SoftMaxHeapSize=1g" ;;
        agentwire-jdk25) echo "$JDK25/bin/java -XX:+UseZGC -XX:+UseCompactObjectHeaders" ;;
        agentwire-jdk25-g1) echo "$JDK25/bin/java -XX:+UseG1GC -XX:+UseCompactObjectHeaders" ;;
        *) echo "unknown AgentWire runtime: $1" >&2; exit 2 ;;
    esac
}
target_of() { case "$1" in agentwire-agui) echo agentwire-agui ;; agentwire*) echo agentwire ;; *) echo "$1" ;; esac; }
jar_of() { if [ "$1" = agentwire-baseline ]; then echo "$BASELINE_JAR"; else echo "$SERVER_JAR"; fi; }

start_peer() { # peer -> prints the pid
    case "$1" in
        agentwire*) AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" taskset -c "$SERVER_CPU" \
            $(runtime_of "$1") --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx4g -jar "$(jar_of "$1")" \
            serve --port "$PORT" --producer-rate 100000000 --producer-burst 100000000 \
            --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 \
            --inbound-rate 1000 \
            >"$OUT/server-$1.log" 2>&1 & ;;
        floor) taskset -c "$SERVER_CPU" java -Xmx4g ${SERVER_GC:-} -cp "$JAR" dev.agentwire.bench.FloorServer "$PORT" \
            >"$OUT/server-$1.log" 2>&1 & ;;
        raw) taskset -c "$SERVER_CPU" java -Xmx4g ${SERVER_GC:-} -cp "$JAR" dev.agentwire.bench.RawFloorServer "$PORT" \
            >"$OUT/server-$1.log" 2>&1 & ;;
        ws) taskset -c "$SERVER_CPU" node "$ROOT/.bench/peers/ws-server.mjs" "$PORT" >"$OUT/server-$1.log" 2>&1 & ;;
        socketio) taskset -c "$SERVER_CPU" node "$ROOT/.bench/peers/socketio-server.mjs" "$PORT" \
            >"$OUT/server-$1.log" 2>&1 & ;;
    esac
    echo $!
}

for conns in $CONNS; do
  for workload in $WORKLOADS; do
    for rep in $(seq 1 "$REPS"); do
      for peer in $PEERS; do
        pid=$(start_peer "$peer")
        for _ in $(seq 1 100); do
            if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then break; fi
            sleep 0.1
        done
        echo "== $peer $workload $conns rep $rep (server pid $pid)"
        taskset -c "$CLIENT_CPU" java -Xmx4g -cp "$JAR" dev.agentwire.bench.LoadTool --target "$(target_of "$peer")" \
            --label "$peer" \
            --base "http://127.0.0.1:$PORT" --connections "$conns" --workload "$workload" \
            --rates "$(rates_for "$workload" "$conns")" --step-seconds "$STEP_SECONDS" \
            --warmup-seconds "$WARMUP_SECONDS" --jwt-secret "$SECRET" --producer-key "$KEY" --server-pid "$pid" \
            $(case "$peer" in agentwire*|floor|raw) echo --gc-before-rss ;; esac) \
            --out "$OUT/raw/$peer-$workload-$conns-$rep.json" || echo "run failed: $peer $workload $conns $rep"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      done
    done
  done
done

java -cp "$JAR" dev.agentwire.bench.CompareReport "$OUT" "$(echo $PEERS | tr ' ' ',')"
