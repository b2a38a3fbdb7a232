#!/usr/bin/env bash
# One node over a Redis Cluster of three primaries without replicas (cluster-require-full-coverage no), 16 producers
# publishing 400 events/s to 60 users on all shards; after 35 s one primary is killed (SIGKILL). Prints the node's
# CPU with every shard up and with one down, and each 5 s's answers (202 accepted, 503 refused). JAR= picks the build.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
JAR=${JAR:-$HERE/../../../server/target/agentwire.jar}
D=${OUT:-/tmp/shard-down-run}; rm -rf "$D"; mkdir -p "$D"
for p in 17101 17102 17103; do
    mkdir -p "$D/$p"
    (cd "$D/$p" && taskset -c 0 redis-server --port $p --bind 127.0.0.1 --cluster-enabled yes \
        --cluster-require-full-coverage no --save "" --appendonly no --cluster-node-timeout 2000 > log 2>&1 &)
done
sleep 1
redis-cli --cluster create 127.0.0.1:17101 127.0.0.1:17102 127.0.0.1:17103 --cluster-replicas 0 --cluster-yes \
    > "$D/create.log" 2>&1
sleep 2
AGENTWIRE_JWT_SECRET=shard-down-secret-shard-down-secret-0123 \
AGENTWIRE_PRODUCER_KEY=shard-down-producer-key-0123456789 \
AGENTWIRE_REDIS_URL=redis://127.0.0.1:17101,127.0.0.1:17102 \
    taskset -c 0 java -Xmx512m -jar "$JAR" serve --port 18790 > "$D/node.log" 2>&1 &
NODE=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18790/readyz >/dev/null && break; sleep 0.2; done
cpu() { awk '{print $14+$15}' /proc/$NODE/stat; }
refreshes() { grep -c "Unable to connect" "$D/node.log"; }
taskset -c 1 python3 "$HERE/producers.py" 18790 400 75 16 > "$D/producers.out" &
PUB=$!; T0=$(date +%s)
sleep 15
c0=$(cpu); l0=$(refreshes); sleep 20; c1=$(cpu); l1=$(refreshes)
echo "all up:     node cpu $(( (c1-c0)*10/20 )) ms/s, lettuce 'Unable to connect' lines $(( l1-l0 )) in 20 s"
echo "shard killed at t=$(( $(date +%s) - T0 ))s"
kill -9 $(pgrep -f "redis-server 127.0.0.1:17103")
sleep 8
c0=$(cpu); l0=$(refreshes); sleep 20; c1=$(cpu); l1=$(refreshes)
echo "shard down: node cpu $(( (c1-c0)*10/20 )) ms/s, lettuce 'Unable to connect' lines $(( l1-l0 )) in 20 s"
wait $PUB; cat "$D/producers.out"
kill $NODE; pkill -f "redis-server 127.0.0.1:171"; wait 2>/dev/null
grep -E "WARN|ERROR" "$D/node.log" | sed -E 's/^[^ ]+ //' | cut -c1-110 | sort | uniq -c | sort -rn | head -8
