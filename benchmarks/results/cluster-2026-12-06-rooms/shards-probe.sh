#!/usr/bin/env bash
# One or two nodes (NODES; the build in server/target) over a 3-primary Redis Cluster, one workload at a few rates
# after a warm-up (WARM events/s for WARMS s), with each node's threads' CPU over 15 s starting TDELAY s after start
# (benchmarks/thread-cpu.sh) and a JFR recording of the first node from then on. Never run in CI.
#   NODES=1 WORKLOAD=unicast RATES=1000,2000 WARM=10000 WARMS=30 TDELAY=42 shards-probe.sh    # one-node-shards/
#   NODES=2 WORKLOAD=unicast RATES=1000,2000 WARM=10000 WARMS=30 TDELAY=42 shards-probe.sh    # two-node-shards/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
OUT=${OUT:-/tmp/agentwire-probe}
NODES=${NODES:-2}
RATES=${RATES:-200,500}
WORKLOAD=${WORKLOAD:-room10}
TDELAY=${TDELAY:-20}
mkdir -p "$OUT"; rm -rf "${OUT:?}"/*
SECRET="cluster-secret-cluster-secret-0123456789"; KEY="cluster-producer-key-0123456789"
D=$(mktemp -d); pids=""
for port in 18791 18792 18793; do
  mkdir -p "$D/$port"
  taskset -c 0 redis-server --port $port --bind 127.0.0.1 --dir "$D/$port" --save "" --appendonly yes \
     --appendfsync everysec --maxmemory-policy noeviction --cluster-enabled yes --cluster-config-file nodes.conf \
     > "$OUT/redis-$port.log" 2>&1 &
  pids="$pids $!"
done
sleep 1
redis-cli --cluster create 127.0.0.1:18791 127.0.0.1:18792 127.0.0.1:18793 --cluster-replicas 0 --cluster-yes \
  > "$OUT/create.log" 2>&1
for _ in $(seq 1 100); do redis-cli -p 18791 cluster info | grep -q cluster_state:ok && break; sleep 0.1; done

start_node() { # port name [JVM options...] -> prints the pid
  local port=$1 name=$2; shift 2
  AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" AGENTWIRE_REDIS_URL="redis://127.0.0.1:18791" \
    taskset -c 0 java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx2g @"$ROOT/bin/jvm.options" "$@" \
    -jar "$ROOT/server/target/agentwire.jar" serve --port "$port" --node-id "$name" --producer-rate 100000000 \
    --producer-burst 100000000 --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 \
    --max-connections-per-user 4 --inbound-rate 1000 > "$OUT/$name.log" 2>&1 &
  echo $!
  for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
}

node=$(start_node 18710 node-a -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
  -XX:StartFlightRecording=filename="$OUT/node.jfr",settings=profile,dumponexit=true,delay=${TDELAY}s)
bases="http://127.0.0.1:18710"; extra=""; nodes="$node"
taskset -c 1 "$ROOT/benchmarks/thread-cpu.sh" "$node" 15 "$TDELAY" > "$OUT/threads.txt" &
probes="$!"
if [ "$NODES" = 2 ]; then
  nodeb=$(start_node 18711 node-b)
  bases="$bases,http://127.0.0.1:18711"; extra="--extra-pids $nodeb"; nodes="$nodes $nodeb"
  taskset -c 1 "$ROOT/benchmarks/thread-cpu.sh" "$nodeb" 15 "$TDELAY" > "$OUT/threads-b.txt" &
  probes="$probes $!"
fi
# shellcheck disable=SC2086
taskset -c 1 java -Xmx4g -cp "$ROOT/benchmarks/target/benchmarks.jar" dev.agentwire.bench.LoadTool --target agentwire \
  --label shards --base http://127.0.0.1:18710 --socket-bases "$bases" --connections 1000 --workload "$WORKLOAD" \
  --rates "$RATES" --step-seconds 10 --warmup-seconds "${WARMS:-10}" --warmup-rate "${WARM:-100}" \
  --jwt-secret "$SECRET" --producer-key "$KEY" --server-pid "$node" $extra --redis-pid "$(echo $pids | tr ' ' ',')" \
  --out "$OUT/load.json" > "$OUT/load.log" 2>&1 || true
# Only the per-thread probes: a bare wait would also wait for the redis-servers started above, and hang.
# shellcheck disable=SC2086
wait $probes
for port in 18791 18792 18793; do
  { redis-cli -p $port info commandstats; redis-cli -p $port info errorstats; } > "$OUT/cmd-$port.txt"
done
# shellcheck disable=SC2086
kill $nodes; sleep 3; kill $pids; sleep 1; rm -rf "$D"
