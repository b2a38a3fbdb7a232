# Several producers at once, each publishing to users spread over shards (a producer per agent worker).
import http.client, json, sys, time, threading
port, rate, seconds, threads = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
key = "shard-down-producer-key-0123456789"
codes = {}; buckets = {}; lock = threading.Lock(); start = time.time()
def worker(t):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    end = time.time() + seconds; i = t
    while time.time() < end:
        body = json.dumps({"user": "u%d" % (i % 60), "type": "app.progress", "data": {"n": i}})
        try:
            conn.request("POST", "/v1/events", body, {"Authorization": "Bearer " + key})
            r = conn.getresponse(); r.read(); c = r.status
        except Exception as e:
            c = type(e).__name__; conn = http.client.HTTPConnection("127.0.0.1", port)
        with lock:
            codes[c] = codes.get(c, 0) + 1
            b = int((time.time() - start) // 5) * 5
            buckets.setdefault(b, {}); buckets[b][c] = buckets[b].get(c, 0) + 1
        i += threads
        time.sleep(threads / rate)
ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
print(codes)
for b in sorted(buckets): print("t=%2d-%2ds" % (b, b + 5), buckets[b])
