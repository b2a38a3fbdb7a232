#!/usr/bin/env bash
# One-off probe (2026-12-04): PSS of the server sampled every second while the load tool opens 10,000 idle
# connections, then offers 1,000, 20,000 and 1,000 events/s for 15 s each. Usage: OUT=dir probe.sh label "java options"
OUT="${OUT:-.}"
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"; PORT=18760; SECRET="compare-secret-compare-secret-0123456789"; KEY="compare-producer-key-0123456789"
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" taskset -c 0 java $2 --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx4g -jar $ROOT/server/target/agentwire.jar serve --port $PORT --producer-rate 100000000 --producer-burst 100000000 --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 --inbound-rate 1000 > "$OUT"/server-$1.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
sleep 2
( for i in $(seq 1 70); do echo "t=$i pss=$(grep Pss: /proc/$pid/smaps_rollup | awk '{print $2}')"; sleep 1; done ) > "$OUT"/pss-$1.txt &
spid=$!
taskset -c 1 java -Xmx4g -cp $ROOT/benchmarks/target/benchmarks.jar dev.agentwire.bench.LoadTool --target agentwire --label $1 --base http://127.0.0.1:$PORT --connections 10000 --workload unicast --rates 1000,20000,1000 --step-seconds 15 --warmup-seconds 0 --jwt-secret "$SECRET" --producer-key "$KEY" --server-pid $pid --gc-before-rss > "$OUT"/load-$1.txt 2>&1
wait $spid
kill $pid; wait $pid 2>/dev/null
