#!/usr/bin/env bash
# Nodes over Redis against one node: the same load tool and workload, interleaved, four setups:
#   single        one AgentWire node, no Redis (the baseline)
#   node+redis    one node in cluster mode: every event is numbered by Redis and comes back on its user's channel
#   2nodes        two nodes over one Redis; publishes and sockets are spread over A and B
#   2nodes+shards two nodes over a Redis Cluster of three primaries (redis-server --cluster-enabled)
# and, when named in SETUPS:
#   node+redis-tls one node over one Redis through TLS (rediss://, a CA made for the run with openssl)
# Servers and Redis share core 0; the load tool runs on core 1 (the machine has two). The warm-up is 30 s: a cluster
# node's JIT was still compiling Lettuce's and the cluster's paths 24 s into a run (C2 at 15% of the core), which a
# 10 s warm-up charged to the first steps of the Redis setups only. It runs at 10,000 deliveries/s
# (WARMUP_DELIVERIES; 1,000 events/s to rooms of 10): at the ladder's first rate (1,000/s) two nodes were still
# compiling (C2 at 6-12% of the core) and zeroing fresh heap pages (9% of core 0) when the steps that decide their
# maximum ran (2026-12-05). Except over the Redis Cluster (SHARDS_WARMUP_DELIVERIES, the ladder's first rate): there
# five processes on one core fall behind 10,000 deliveries/s, the JIT with them, and the steps ran in code still
# being compiled (2026-12-06, evening). Writes raw JSON per run,
# then results.md, results.json and p99-<workload>-<connections>.png into $OUT.
#
#   benchmarks/cluster.sh                              # unicast and rooms of 10, 1,000 connections, 3 repetitions
#   WORKLOADS=unicast REPS=1 benchmarks/cluster.sh     # a quick look
#   NODE_JAVA_OPTS='-Xlog:gc,safepoint:file=/tmp/gc-%p.log' ...  # more JVM options for every node (unquoted: split on spaces)
#   REDIS_EXTRA_ARGS="--auto-aof-rewrite-min-size 1gb" ...   # more redis-server options (split on spaces)
#   EVENTS="plain agent" WORKLOADS=unicast ...        # the load tools' events (no id, no run), then what an agent's
#                                                      # SDK sends (agent_thinking with an id, in a started run)
#   BASELINE_JAR=/tmp/base/server/target/agentwire.jar SETUPS="node+redis-before node+redis" ...
#                                                      # a setup named <setup>-before runs the build in BASELINE_JAR
#
# Never run in CI (CI runs ClusterTest and friends, not this). Needs redis-server (Debian's package).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/benchmarks/results/cluster-$(date +%F)}"
CONNS="${CONNS:-1000}"
WORKLOADS="${WORKLOADS:-unicast room10}"
REPS="${REPS:-3}"
SETUPS="${SETUPS:-single node+redis 2nodes 2nodes+shards}"
# plain: LoadTool's custom events, no id and no run; agent: agent_thinking with an id in a run (unicast only).
EVENTS="${EVENTS:-plain}"
STEP_SECONDS="${STEP_SECONDS:-5}"
WARMUP_SECONDS="${WARMUP_SECONDS:-30}"
# Deliveries/s of the warm-up; 0: the ladder's first rate (as before 2026-12-06).
WARMUP_DELIVERIES="${WARMUP_DELIVERIES:-10000}"
# The same for 2nodes+shards, which falls behind the other setups' warm-up here.
SHARDS_WARMUP_DELIVERIES="${SHARDS_WARMUP_DELIVERIES:-0}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
JAR="$ROOT/benchmarks/target/benchmarks.jar"
SERVER_JAR="$ROOT/server/target/agentwire.jar"
SECRET="cluster-secret-cluster-secret-0123456789"
KEY="cluster-producer-key-0123456789"
PORT_A=18710
PORT_B=18711
REDIS_PORT=18790
SHARD_PORTS="18791 18792 18793"
TLS_PORT=18794

command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install -y redis-server" >&2; exit 2; }
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT/raw"
(cd "$ROOT" && mvn -q -B -ntp -DskipTests package)
REDIS_DIR="$(mktemp -d)"
TLS_DIR="$(mktemp -d)"
# What this run started and has not stopped yet is stopped on any exit, a failed step's too: a node whose port never
# opened ended the script (set -e) and left its Redis and the other node running, holding the next run's ports. Each
# pid is forgotten once stopped, so that a number the system hands out again is never killed.
pid_a=""; pid_b=""; shard_pids=""; redis_pid=0
running() {
    echo "${pid_a:-} ${pid_b:-} ${shard_pids:-}"
    if [ -z "${shard_pids:-}" ] && [ "${redis_pid:-0}" != 0 ]; then echo "$redis_pid"; fi
}
# shellcheck disable=SC2046
trap 'stop $(running); rm -rf "$REDIS_DIR" "$TLS_DIR"' EXIT
case " $SETUPS " in
    *" node+redis-tls "*)
        # A CA of the run's own and Redis's certificate for 127.0.0.1, which the node verifies (as in RedisTlsTest).
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cluster.sh ca" -keyout "$TLS_DIR/ca.key" \
            -out "$TLS_DIR/ca.pem" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$TLS_DIR/redis.key" \
            -out "$TLS_DIR/redis.csr" 2>/dev/null
        echo "subjectAltName=IP:127.0.0.1" > "$TLS_DIR/san.cnf"
        openssl x509 -req -days 2 -in "$TLS_DIR/redis.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
            -CAcreateserial -extfile "$TLS_DIR/san.cnf" -out "$TLS_DIR/redis.pem" 2>/dev/null
        ;;
esac

# The ladder reaches past what one node sustains, so the single node's maximum is measured, not the ladder's top
# (until 2026-12-05 it ended at 20,000, which every single-node run reached; for rooms of 10, until 2026-12-06 at
# 5,000 events/s, 50,000 deliveries/s, which the single node reached).
rates_for() {
    case "$1" in
        unicast) echo "1000,2000,5000,10000,15000,20000,30000,40000,60000,80000" ;;
        room10) echo "200,500,1000,2000,5000,8000,10000" ;;
    esac
}

warmup_rate_for() { # workload setup -> events/s of its warm-up (0: the ladder's first rate)
    local deliveries="$WARMUP_DELIVERIES"
    [ "$2" = 2nodes+shards ] && deliveries="$SHARDS_WARMUP_DELIVERIES"
    case "$1" in
        unicast) echo "$deliveries" ;;
        room10) echo $((deliveries / 10)) ;;
    esac
}

start_node() { # port node-id redis-url(or empty) -> prints the pid
    AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" AGENTWIRE_REDIS_URL="$3" \
        env ${redis_ca:+AGENTWIRE_REDIS_TLS_CA_FILE=$redis_ca} taskset -c "$SERVER_CPU" \
        java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx2g @"$ROOT/bin/jvm.options" ${NODE_JAVA_OPTS:-} \
        -jar "$node_jar" \
        serve --port "$1" --node-id "$2" --producer-rate 100000000 --producer-burst 100000000 \
        --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 \
        --inbound-rate 1000 \
        >"$OUT/server-$2.log" 2>&1 &
    echo $!
}

wait_port() {
    for _ in $(seq 1 200); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "port $1 did not open" >&2
    return 1
}

stop() {
    for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
}

for conns in $CONNS; do
  for workload in $WORKLOADS; do
    for rep in $(seq 1 "$REPS"); do
     for events in $EVENTS; do
      # A result's case: the workload, and +agent for agent events (CompareReport groups them so).
      case_name="$workload"
      [ "$events" = plain ] || case_name="$workload+$events"
      for label in $SETUPS; do
        # <setup>-before: the same setup, its nodes running the build in BASELINE_JAR (a before/after in one run).
        setup="${label%-before}"
        node_jar="$SERVER_JAR"
        if [ "$setup" != "$label" ]; then
            node_jar="${BASELINE_JAR:?a -before setup needs BASELINE_JAR}"
        fi
        redis_pid=0; pid_b=""; redis_url=""; socket_bases="http://127.0.0.1:$PORT_A"; shard_pids=""; redis_ca=""
        tls_args=()
        if [ "$setup" = 2nodes+shards ]; then
            rm -rf "${REDIS_DIR:?}"/*
            for port in $SHARD_PORTS; do
                mkdir -p "$REDIS_DIR/$port"
                taskset -c "$SERVER_CPU" redis-server --port "$port" --bind 127.0.0.1 --dir "$REDIS_DIR/$port" \
                    --save "" --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
                    ${REDIS_EXTRA_ARGS:-} --cluster-enabled yes --cluster-config-file nodes.conf \
                    >"$OUT/redis-$port.log" 2>&1 &
                shard_pids="$shard_pids $!"
                wait_port "$port"
            done
            # shellcheck disable=SC2046
            redis-cli --cluster create $(for port in $SHARD_PORTS; do echo "127.0.0.1:$port"; done) \
                --cluster-replicas 0 --cluster-yes >"$OUT/redis-cluster-create.log" 2>&1
            for _ in $(seq 1 100); do
                redis-cli -p "${SHARD_PORTS%% *}" cluster info | grep -q cluster_state:ok && break
                sleep 0.1
            done
            redis_pid="$(echo $shard_pids | tr ' ' ',')"
            redis_url="redis://127.0.0.1:${SHARD_PORTS%% *}"
        elif [ "$setup" != single ]; then
            rm -rf "${REDIS_DIR:?}"/*
            if [ "$setup" = node+redis-tls ]; then
                # The plain port stays open for redis-cli below; the node speaks TLS only.
                tls_args=(--tls-port "$TLS_PORT" --tls-cert-file "$TLS_DIR/redis.pem"
                    --tls-key-file "$TLS_DIR/redis.key" --tls-ca-cert-file "$TLS_DIR/ca.pem" --tls-auth-clients no)
            fi
            # Persistence as recommended in docs/CLUSTER.md: append-only, fsync every second.
            taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
                --save "" --appendonly yes --appendfsync everysec --maxmemory-policy noeviction ${REDIS_EXTRA_ARGS:-} \
                "${tls_args[@]}" >"$OUT/redis.log" 2>&1 &
            redis_pid=$!
            wait_port "$REDIS_PORT"
            redis_url="redis://127.0.0.1:$REDIS_PORT"
            if [ "$setup" = node+redis-tls ]; then
                wait_port "$TLS_PORT"
                redis_url="rediss://127.0.0.1:$TLS_PORT"
                redis_ca="$TLS_DIR/ca.pem"
            fi
        fi
        pid_a=$(start_node "$PORT_A" node-a "$redis_url")
        wait_port "$PORT_A"
        if [ "$setup" = 2nodes ] || [ "$setup" = 2nodes+shards ]; then
            pid_b=$(start_node "$PORT_B" node-b "$redis_url")
            wait_port "$PORT_B"
            socket_bases="http://127.0.0.1:$PORT_A,http://127.0.0.1:$PORT_B"
        fi
        echo "== $label $case_name $conns rep $rep (nodes $pid_a $pid_b, redis $redis_pid)"
        taskset -c "$CLIENT_CPU" java -Xmx4g -cp "$JAR" dev.agentwire.bench.LoadTool --target agentwire \
            --label "$label" --base "http://127.0.0.1:$PORT_A" --socket-bases "$socket_bases" \
            --connections "$conns" --workload "$workload" --events "$events" --rates "$(rates_for "$workload")" \
            --step-seconds "$STEP_SECONDS" --warmup-seconds "$WARMUP_SECONDS" \
            --warmup-rate "$(warmup_rate_for "$workload" "$setup")" --jwt-secret "$SECRET" --producer-key "$KEY" \
            --server-pid "$pid_a" --extra-pids "${pid_b}" --redis-pid "$redis_pid" \
            --gc-before-rss --out "$OUT/raw/$label-$case_name-$conns-$rep.json" \
            || echo "run failed: $label $case_name $conns $rep"
        stop "$pid_a" $pid_b
        pid_a=""; pid_b=""
        if [ -n "$shard_pids" ]; then
            # Each shard's commands and errors: how many events a group commit's call carried there.
            for port in $SHARD_PORTS; do
                { redis-cli -p "$port" info commandstats; redis-cli -p "$port" info errorstats; } \
                    > "$OUT/redis-commandstats-$label-$case_name-$conns-$rep-$port.txt" 2>&1 || true
            done
            # shellcheck disable=SC2086
            stop $shard_pids
            shard_pids=""; redis_pid=0
        elif [ "$redis_pid" != 0 ]; then
            { redis-cli -p "$REDIS_PORT" info memory | grep -E '^used_memory_human'
              echo "history entries load-1: $(redis-cli -p "$REDIS_PORT" llen 'aw:{u:load-1}:l')"
              echo "history bytes load-1: $(redis-cli -p "$REDIS_PORT" memory usage 'aw:{u:load-1}:l' samples 0)"
              echo "stream bytes load-1: $(redis-cli -p "$REDIS_PORT" memory usage 'aw:{u:load-1}:s' samples 0)"
            } > "$OUT/redis-memory-$label-$case_name-$conns-$rep.txt" 2>&1 || true
            # Where Redis's time went, per command and per script call, over the whole run (warm-up included), and
            # which errors the calls answered (a script's first call on a new Redis answers NOSCRIPT, then runs by
            # EVAL; publish.lua's first FCALL answers that the function is not found, then it is loaded).
            { redis-cli -p "$REDIS_PORT" info commandstats; redis-cli -p "$REDIS_PORT" info errorstats; } \
                > "$OUT/redis-commandstats-$label-$case_name-$conns-$rep.txt" 2>&1 || true
            stop "$redis_pid"
            redis_pid=0
        fi
      done
     done
    done
  done
done

ORDER="single,single-before,node+redis-before,node+redis,node+redis-tls"
ORDER="$ORDER,2nodes-before,2nodes,2nodes+shards-before,2nodes+shards"
java -cp "$JAR" dev.agentwire.bench.CompareReport "$OUT" "$ORDER"
