#!/usr/bin/env bash
# One server (bin/jvm.options + GC log), 1,000 connections, a ladder that repeats 40,000/s; each step line stamped.
set -u
ROOT=/work/main; OUT=${OUT:-/tmp/probe40}; mkdir -p "$OUT"
SECRET="compare-secret-compare-secret-0123456789"; KEY="compare-producer-key-0123456789"; PORT=18790
ulimit -n 20000
GCOPTS=${GCOPTS:-@$ROOT/bin/jvm.options}
start=$(date +%s.%N)
AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" taskset -c 0 java $GCOPTS \
  -Xlog:gc,gc+phases=debug,safepoint:file=$OUT/gc.log:uptime --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx4g \
  -jar $JAR serve --port $PORT --producer-rate 100000000 --producer-burst 100000000 \
  --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 \
  --inbound-rate 1000 > $OUT/server.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
taskset -c 1 java -Xmx4g -cp $ROOT/benchmarks/target/benchmarks.jar dev.agentwire.bench.LoadTool --target agentwire \
  --label probe --base http://127.0.0.1:$PORT --connections 1000 --workload unicast \
  --rates ${RATES:-10000,20000,40000,40000,40000,20000,40000} --step-seconds 5 --warmup-seconds 30 \
  --jwt-secret "$SECRET" --producer-key "$KEY" --server-pid $pid --out $OUT/probe.json 2>&1 \
  | while IFS= read -r line; do printf '%8.1f %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"; done > $OUT/steps.txt
kill $pid; wait $pid 2>/dev/null
