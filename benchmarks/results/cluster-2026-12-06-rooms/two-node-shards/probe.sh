#!/usr/bin/env bash
# Two nodes (the build in server/target) over a 3-primary Redis Cluster, one workload at a few rates after a warm-up
# (WARM events/s for WARMS s), with each node's threads' CPU over 15 s of the steps. Never run in CI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
OUT=${OUT:-/tmp/agentwire-probe}
RATES=${RATES:-200,500}
WORKLOAD=${WORKLOAD:-room10}
mkdir -p "$OUT"; rm -rf "$OUT"/*
SECRET="cluster-secret-cluster-secret-0123456789"; KEY="cluster-producer-key-0123456789"
D=$(mktemp -d); pids=""
for port in 18791 18792 18793; do
  mkdir -p $D/$port
  taskset -c 0 redis-server --port $port --bind 127.0.0.1 --dir $D/$port --save "" --appendonly yes --appendfsync everysec \
     --maxmemory-policy noeviction --cluster-enabled yes --cluster-config-file nodes.conf > $OUT/redis-$port.log 2>&1 &
  pids="$pids $!"
done
sleep 1
redis-cli --cluster create 127.0.0.1:18791 127.0.0.1:18792 127.0.0.1:18793 --cluster-replicas 0 --cluster-yes > $OUT/create.log 2>&1
for _ in $(seq 1 100); do redis-cli -p 18791 cluster info | grep -q cluster_state:ok && break; sleep 0.1; done
AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" AGENTWIRE_REDIS_URL="redis://127.0.0.1:18791" taskset -c 0 \
  java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx2g @$ROOT/bin/jvm.options \
  -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
  -XX:StartFlightRecording=filename=$OUT/node.jfr,settings=profile,dumponexit=true,delay=${TDELAY:-20}s \
  -jar $ROOT/server/target/agentwire.jar serve --port 18710 --node-id node-a --producer-rate 100000000 --producer-burst 100000000 \
  --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 --inbound-rate 1000 \
  > $OUT/node.log 2>&1 &
node=$!
for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/18710) 2>/dev/null && break; sleep 0.1; done
AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" AGENTWIRE_REDIS_URL="redis://127.0.0.1:18791" taskset -c 0 \
  java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx2g @$ROOT/bin/jvm.options \
  -jar $ROOT/server/target/agentwire.jar serve --port 18711 --node-id node-b --producer-rate 100000000 --producer-burst 100000000 \
  --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 --inbound-rate 1000 \
  > $OUT/node-b.log 2>&1 &
nodeb=$!
for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/18711) 2>/dev/null && break; sleep 0.1; done
taskset -c 1 $ROOT/benchmarks/thread-cpu.sh $node 15 ${TDELAY:-20} > $OUT/threads.txt &
taskset -c 1 $ROOT/benchmarks/thread-cpu.sh $nodeb 15 ${TDELAY:-20} > $OUT/threads-b.txt &
taskset -c 1 java -Xmx4g -cp $ROOT/benchmarks/target/benchmarks.jar dev.agentwire.bench.LoadTool --target agentwire \
  --label shards --base http://127.0.0.1:18710 --socket-bases http://127.0.0.1:18710,http://127.0.0.1:18711 --connections 1000 --workload $WORKLOAD --rates $RATES \
  --step-seconds 10 --warmup-seconds ${WARMS:-10} --warmup-rate ${WARM:-100} --jwt-secret "$SECRET" --producer-key "$KEY" \
  --server-pid $node --extra-pids $nodeb --redis-pid $(echo $pids | tr ' ' ',') --out $OUT/load.json > $OUT/load.log 2>&1 || true
wait
for port in 18791 18792 18793; do redis-cli -p $port info commandstats > $OUT/cmd-$port.txt; redis-cli -p $port info errorstats >> $OUT/cmd-$port.txt; done
kill $node $nodeb; sleep 3; kill $pids; sleep 1; rm -rf $D
