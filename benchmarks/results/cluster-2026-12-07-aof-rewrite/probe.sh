#!/usr/bin/env bash
# One node over one Redis (both on core 0, the load tool on core 1), 1,000 connections, agent events at RATE for
# STEP seconds after a 30 s warm-up, Redis started with --auto-aof-rewrite-percentage PCT. Redis's CPU (main thread
# and reaped rewrite children) is read 60 s apart, ending 10 s before the step does (140 s and 200 s after the load
# tool starts when STEP is 180): a steady-state window of the step. Each run's folder keeps the load tool's line,
# Redis's log (its rewrites) and the two INFO cpu snapshots.
#
#   RATE=5000 STEP=180 PCTS="100 400" REPS=2 benchmarks/results/cluster-2026-12-07-aof-rewrite/probe.sh
set -u
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"; BASE=${OUT:-/tmp/aof-probe}
SECRET="cluster-secret-cluster-secret-0123456789"; KEY="cluster-producer-key-0123456789"
RATE=${RATE:-5000}; STEP=${STEP:-180}; FIRST=$((STEP - 40))
[ "$STEP" -ge 100 ] || { echo "probe: STEP=$STEP must be at least 100" >&2; exit 2; }
ulimit -n 20000
for rep in $(seq 1 "${REPS:-2}"); do
  for pct in ${PCTS:-100 400}; do
    out="$BASE/$RATE-$pct-$rep"; data="$BASE/redis-data"; rm -rf "$out" "$data"; mkdir -p "$out" "$data"
    taskset -c 0 redis-server --port 18790 --bind 127.0.0.1 --dir "$data" --save "" --appendonly yes \
      --appendfsync everysec --maxmemory-policy noeviction --auto-aof-rewrite-percentage "$pct" \
      > "$out/redis.log" 2>&1 &
    rp=$!; sleep 0.5
    AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" AGENTWIRE_REDIS_URL=redis://127.0.0.1:18790 \
      taskset -c 0 java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx2g @"$ROOT/bin/jvm.options" \
      -jar "$ROOT/server/target/agentwire.jar" serve --port 18710 --node-id node-a --producer-rate 100000000 \
      --producer-burst 100000000 --max-connections-per-ip 1000000 --max-pending-connections-per-ip 1000000 \
      --max-connections-per-user 4 --inbound-rate 1000 > "$out/server.log" 2>&1 &
    pa=$!
    for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/18710) 2>/dev/null && break; sleep 0.1; done
    ( sleep $FIRST; redis-cli -p 18790 info cpu > "$out/cpu-first"
      sleep 60; redis-cli -p 18790 info cpu > "$out/cpu-last" ) &
    window=$!
    taskset -c 1 java -Xmx4g -cp "$ROOT/benchmarks/target/benchmarks.jar" dev.agentwire.bench.LoadTool \
      --target agentwire --label "pct=$pct" --base http://127.0.0.1:18710 --connections 1000 --workload unicast \
      --events agent --rates "$RATE" --step-seconds "$STEP" --warmup-seconds 30 --warmup-rate 10000 \
      --jwt-secret "$SECRET" --producer-key "$KEY" --server-pid $pa --redis-pid $rp > "$out/load.txt" 2>&1
    wait $window
    redis-cli -p 18790 info persistence > "$out/persistence-end"
    kill $pa $rp 2>/dev/null; sleep 2
    echo "pct=$pct rep=$rep rewrites=$(grep -c 'rewriting started' "$out/redis.log") $(grep -h 'rate=' "$out/load.txt")"
    # Redis's CPU per event over the window: its main thread, and its rewrite children (counted once reaped).
    paste "$out/cpu-first" "$out/cpu-last" | tr -d '\r' | awk -F'[:\t]' -v events=$((RATE * 60)) '
        /^used_cpu_(sys|user)(_children)?:/ { d[$1] = $4 - $2 }
        END { printf "  window: main %.1f us/event, rewrite children %.1f us/event\n",
                (d["used_cpu_sys"] + d["used_cpu_user"]) / events * 1e6,
                (d["used_cpu_sys_children"] + d["used_cpu_user_children"]) / events * 1e6 }'
  done
done
