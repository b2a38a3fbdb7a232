#!/usr/bin/env bash
# A node over a 3-primary Redis Cluster (or one Redis with SINGLE=1), no load: what it burns idle (each thread's CPU
# over 20 s after SETTLE seconds, benchmarks/thread-cpu.sh). JARFILE: another build. Never run in CI.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
OUT=${OUT:-/tmp/agentwire-probe}
mkdir -p "$OUT"
SECRET="cluster-secret-cluster-secret-0123456789"; KEY="cluster-producer-key-0123456789"
D=$(mktemp -d); pids=""
if [ "${SINGLE:-0}" = 1 ]; then
  taskset -c 0 redis-server --port 18791 --bind 127.0.0.1 --dir $D --save "" > /dev/null 2>&1 &
  pids=$!; sleep 0.5
else
for port in 18791 18792 18793; do
  mkdir -p $D/$port
  taskset -c 0 redis-server --port $port --bind 127.0.0.1 --dir $D/$port --save "" --cluster-enabled yes \
     --cluster-config-file nodes.conf > /dev/null 2>&1 &
  pids="$pids $!"
done
sleep 1
redis-cli --cluster create 127.0.0.1:18791 127.0.0.1:18792 127.0.0.1:18793 --cluster-replicas 0 --cluster-yes \
  > /dev/null 2>&1
for _ in $(seq 1 100); do redis-cli -p 18791 cluster info | grep -q cluster_state:ok && break; sleep 0.1; done
fi
AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" AGENTWIRE_REDIS_URL="redis://127.0.0.1:18791" \
  taskset -c 0 java -Xmx2g @$ROOT/bin/jvm.options ${NODE_OPTS:-} -jar ${JARFILE:-$ROOT/server/target/agentwire.jar} \
  serve --port 18710 --node-id node-a > $OUT/node.log 2>&1 &
node=$!
sleep ${SETTLE:-40}
taskset -c 1 $ROOT/benchmarks/thread-cpu.sh $node 20 0 > $OUT/threads.txt
for p in $pids; do cat /proc/$p/stat | awk '{print "redis utime+stime ticks", $14+$15}'; done > $OUT/redis-before.txt
sleep 10
for p in $pids; do cat /proc/$p/stat | awk '{print "redis utime+stime ticks", $14+$15}'; done > $OUT/redis-after.txt
for p in 18791 18792 18793; do redis-cli -p $p info commandstats > $OUT/cmd-$p.txt 2>/dev/null; done
kill $node; sleep 2; kill $pids; sleep 0.5; rm -rf $D
