#!/usr/bin/env bash
# usage: histo.sh label jar conns -> per-connection heap from class histograms (full GC each)
set -u
label=$1; jar=$2; n=$3; OUT=/tmp/histo; mkdir -p $OUT
SECRET="compare-secret-compare-secret-0123456789"; KEY="compare-producer-key-0123456789"; PORT=18700
ulimit -n 20000
AGENTWIRE_JWT_SECRET="$SECRET" AGENTWIRE_PRODUCER_KEY="$KEY" taskset -c 0 java @/work/main/bin/jvm.options \
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -Xmx4g -jar $jar \
  serve --port $PORT --producer-rate 100000000 --producer-burst 100000000 --max-connections-per-ip 1000000 \
    --max-pending-connections-per-ip 1000000 --max-connections-per-user 4 --inbound-rate 1000 \
    > $OUT/server-$label.log 2>&1 & pid=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
# warm the connection path once (its first objects: caches, class statics), then the baseline
taskset -c 1 java -cp /work/main/benchmarks/target/benchmarks.jar dev.agentwire.bench.LoadTool --target agentwire \
    --label w --base http://127.0.0.1:$PORT --connections $n --workload unicast --rates 100 --step-seconds 3 \
    --warmup-seconds 2 --jwt-secret "$SECRET" --producer-key "$KEY" --out $OUT/w.json > /dev/null 2>&1
sleep 2
jcmd $pid GC.class_histogram > $OUT/h0-$label.txt
taskset -c 1 java -cp /work/main/benchmarks/target/benchmarks.jar dev.agentwire.bench.LoadTool --target agentwire \
    --label l --base http://127.0.0.1:$PORT --connections $n --workload unicast --rates 100 --step-seconds 40 \
    --warmup-seconds 2 --jwt-secret "$SECRET" --producer-key "$KEY" --out $OUT/l.json \
    > $OUT/load-$label.log 2>&1 & lp=$!
sleep 25
jcmd $pid GC.class_histogram > $OUT/h1-$label.txt
kill $lp $pid 2>/dev/null; wait 2>/dev/null
python3 - $OUT/h0-$label.txt $OUT/h1-$label.txt $n $label <<'PY'
import sys,re
def load(f):
    d={}
    for l in open(f):
        m=re.match(r'\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)',l)
        if m: d[m.group(3)]=(int(m.group(1)),int(m.group(2)))
    return d
a=load(sys.argv[1]); b=load(sys.argv[2]); n=int(sys.argv[3])
tot=sum(v[1] for v in b.values())-sum(v[1] for v in a.values())
print(f"{sys.argv[4]}: {tot/n:.0f} bytes of heap per connection ({n} connections)")
diff=sorted(((b.get(k,(0,0))[1]-a.get(k,(0,0))[1])/n,k) for k in set(a)|set(b))
for v,k in diff[::-1][:8]: print(f"   {v:7.1f} B  {k}")
for k in ('org.agrona.concurrent.ManyToOneConcurrentLinkedQueue', 'dev.agentwire.core.Notice'):
    print('   ', k, (b.get(k,(0,0))[0]-a.get(k,(0,0))[0])/n, 'objects per connection')
PY
