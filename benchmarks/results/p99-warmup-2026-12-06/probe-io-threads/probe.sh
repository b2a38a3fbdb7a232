#!/usr/bin/env bash
# usage: p99probe.sh label "java opts" [extra serve args]   -> /tmp/p99/<label>.json, server log
set -u
ROOT=/work/main; OUT=/tmp/p99; mkdir -p $OUT
SECRET="compare-secret-compare-secret-0123456789"; KEY="compare-producer-key-0123456789"; PORT=18700
label=$1; opts=${2:-}; extra=${3:-}
ulimit -n 20000
if [[ "$label" == ws* ]]; then
  taskset -c 0 node $ROOT/.bench/peers/ws-server.mjs $PORT > $OUT/server-$label.log 2>&1 & pid=$!; target=ws
else
  AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" taskset -c 0 java $opts \
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx4g -jar $ROOT/server/target/agentwire.jar \
    serve --port $PORT --producer-rate 100000000 --producer-burst 100000000 --max-connections-per-ip 1000000 \
    --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 --inbound-rate 1000 $extra \
    > $OUT/server-$label.log 2>&1 & pid=$!; target=agentwire
fi
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
taskset -c 1 java -Xmx4g -cp $ROOT/benchmarks/target/benchmarks.jar dev.agentwire.bench.LoadTool --target $target \
    --label $label \
  --base http://127.0.0.1:$PORT --connections ${CONNS:-1000} --workload unicast --rates ${RATES:-1000,2000,5000} \
    --step-seconds ${STEP:-10} \
  --warmup-seconds ${WARM:-20} --jwt-secret "$SECRET" --producer-key "$KEY" --server-pid $pid --out $OUT/$label.json \
    > $OUT/load-$label.log 2>&1
kill $pid; wait $pid 2>/dev/null
python3 - "$OUT/$label.json" "$label" <<'PY'
import json,sys
d=json.load(open(sys.argv[1]))
steps = ' '.join(f"{s['rate']}: p50 {s['p50Ms']:.1f} p99 {s['p99Ms']:.1f} p999 {s['p999Ms']:.1f} |"
                 for s in d['steps'])
print(sys.argv[2].ljust(14), steps)
PY
