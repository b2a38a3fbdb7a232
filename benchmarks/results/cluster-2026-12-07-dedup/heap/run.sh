#!/bin/bash
# usage: run.sh <events> <tag> [jar]
cd /work/main
S=diag-secret-diag-secret-0123456789abcdef; K=diag-producer-key-0123456789
JARX=${3:-server/target/agentwire.jar}
AGENTWIRE_JWT_SECRET=$S AGENTWIRE_PRODUCER_KEY=$K taskset -c 0 java \
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx2g @bin/jvm.options -Xlog:gc:file=/tmp/diag/gc-$2.log \
    -jar $JARX serve --port 18730 --producer-rate 100000000 --producer-burst 100000000 \
    --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 > /tmp/diag/server-$2.log 2>&1 &
PID=$!
sleep 5
taskset -c 1 java -Xmx4g -cp benchmarks/target/benchmarks.jar dev.agentwire.bench.LoadTool \
    --base http://127.0.0.1:18730 --jwt-secret $S --producer-key $K --connections 1000 --events $1 \
    --rates 20000,40000,40000,60000 --step-seconds 5 --warmup-seconds 30 --warmup-rate 10000 --server-pid $PID \
    --max-failed-steps 0 --sample-heap 2>&1 | grep -E "rate=|maxSus" | cut -c1-200
jcmd $PID GC.heap_info | head -3
jcmd $PID GC.class_histogram | head -14
kill $PID; wait $PID 2>/dev/null
