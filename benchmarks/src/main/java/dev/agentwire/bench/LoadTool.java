package dev.agentwire.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The end-to-end load tool: N real WebSocket connections, an open-loop publisher at rate R over HTTP ingest, and
 * publish→receive latency in HdrHistogram. Every event carries its intended send time, so a late send counts
 * against latency (no coordinated omission). It walks a ladder of rates and reports, per step: delivered/offered,
 * p50/p99/p99.9/max, server CPU-µs per delivery and RSS (from /proc of {@code --server-pid}), and its own CPU use;
 * a step where the tool itself was saturated is marked invalid.
 * <p>
 * Targets: {@code agentwire} (JWT + producer key), {@code floor} and {@code ws} (same surface, no auth),
 * {@code socketio} (Engine.IO v4 over WebSocket, {@code 42["event",...]}). Loopback addresses only.
 */
@Command(name = "load", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "End-to-end load against a server on this machine.")
public final class LoadTool implements Callable<Integer>
{
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--target", defaultValue = "agentwire", description = "agentwire | agentwire-agui | floor | raw | ws | socketio")
    String target;

    @Option(names = "--base", defaultValue = "http://127.0.0.1:8080", description = "Server base URL (loopback).")
    String base;

    @Option(names = "--socket-bases", split = ",",
        description = "Base URLs the sockets connect to and publishes go to, round robin (default: --base). " +
            "Several nodes of a cluster: publish through every node, receive on every node, and report the events " +
            "each node read from Redis.")
    private String[] socketBases;

    @Option(names = "--extra-pids", split = ",", defaultValue = "",
        description = "More server processes (the other nodes) whose CPU counts as server CPU.")
    private String[] extraPids;

    @Option(names = "--redis-pid", defaultValue = "0", split = ",",
        description = "The cluster's redis-server processes (each shard's): their CPU per offered event, on its own.")
    private long[] redisPids;

    private final java.util.concurrent.ExecutorService sampler = java.util.concurrent.Executors.newSingleThreadExecutor(
        task ->
        {
            final Thread thread = new Thread(task, "load-memory-sampler");
            thread.setDaemon(true);
            return thread;
        });
    private final List<java.util.concurrent.Future<Void>> memorySamples = new ArrayList<>();

    @Option(names = "--label", description = "Name of this peer in the results (default: --target).")
    private String label;

    @Option(names = "--gc-before-rss", defaultValue = "false", description = "Run a full GC in the server (jcmd " +
        "<pid> GC.run; JVM servers) before each RSS reading: live memory, not garbage not collected yet.")
    private boolean gcBeforeRss;

    @Option(names = "--idle-settle-ms", defaultValue = "3000", description = "Memory per idle connection is read " +
        "this long after the collection, and at once (0.5 s): a collector may keep what it freed for a while.")
    private long idleSettleMs;

    @Option(names = "--sample-heap", defaultValue = "false",
        description = "At the end of each step, read the server's Java heap in use (jcmd GC.heap_info; JVM servers), " +
            "as the soak does. Its PSS is read at every step whenever --server-pid is given.")
    private boolean sampleHeap;

    @Option(names = "--connections", defaultValue = "1000", description = "WebSocket connections to open.")
    int connections;

    @Option(names = "--workload", defaultValue = "unicast", description = "unicast | room10 | broadcast")
    String workload;

    @Option(names = "--rates", defaultValue = "1000,2000,5000,10000,20000", split = ",",
        description = "Ladder of offered rates, events per second.")
    int[] rates;

    @Option(names = "--step-seconds", defaultValue = "5", description = "Seconds per ladder step.")
    int stepSeconds;

    @Option(names = "--warmup-seconds", defaultValue = "5",
        description = "Seconds of load before measuring (JIT of both sides, heaps grown), not reported.")
    int warmupSeconds;

    @Option(names = "--warmup-rate", defaultValue = "0",
        description = "Events per second of the warm-up; 0: the ladder's first rate. A rate that fills the "
            + "histories and grows the heaps to their working size measures capacity rather than start-up.")
    int warmupRate;

    @Option(names = "--payload-bytes", defaultValue = "200", description = "Bytes of event data.")
    int payloadBytes;

    @Option(names = "--events", defaultValue = EventBodies.PLAIN, description = "plain: a custom type, no id, no " +
        "run | agent: agent_thinking with an id, in a run started per user first (unicast; see EventBodies).")
    String events;

    @Option(names = "--jwt-secret", defaultValue = "${env:AGENTWIRE_JWT_SECRET:-}", description = "For agentwire.")
    String jwtSecret;

    @Option(names = "--producer-key", defaultValue = "${env:AGENTWIRE_PRODUCER_KEY:-}", description = "For agentwire.")
    String producerKey;

    @Option(names = "--server-pid", defaultValue = "0", description = "Server process for CPU and RSS (0: none).")
    long serverPid;

    @Option(names = "--out", description = "Write the results as JSON here.")
    Path out;

    @Option(names = "--max-failed-steps", defaultValue = "2",
        description = "Stop the ladder after this many consecutive steps that fail the criteria (0: never stop).")
    int maxFailedSteps;

    /** Events due within one tick travel in one request: per-request overhead would otherwise dominate. */
    static final long TICK_NS = 5_000_000;

    private final Recorder latency = new Recorder(3_600_000_000_000L, 3);
    private final LongAdder delivered = new LongAdder();
    private final LongAdder gaps = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder foreign = new LongAdder();
    private final AtomicInteger ready = new AtomicInteger();
    private EventBodies bodies;
    private Publisher publisher;
    private NioReceiver receiver;

    public static void main(final String[] args)
    {
        System.exit(new CommandLine(new LoadTool()).execute(args));
    }

    @Override
    public Integer call() throws Exception
    {
        if (!URI.create(base).getHost().startsWith("127.") && !"localhost".equals(URI.create(base).getHost()))
        {
            System.err.println("load: only loopback targets are allowed: base=" + base);
            return 2;
        }
        for (final String socketBase : socketBases == null ? new String[0] : socketBases)
        {
            if (!URI.create(socketBase).getHost().startsWith("127."))
            {
                System.err.println("load: only loopback targets are allowed: socketBase=" + socketBase);
                return 2;
            }
        }
        try
        {
            bodies = new EventBodies(workload, connections, payloadBytes, events);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("load: " + ex.getMessage());
            return 2;
        }
        publisher = new Publisher(base, socketBases, producerKey);
        final long[] rssBeforeKb = ProcStats.idlePssKb(serverPid, gcBeforeRss, idleSettleMs);
        openConnections();
        Thread.sleep(1_000);
        final long[] rssAfterKb = ProcStats.idlePssKb(serverPid, gcBeforeRss, idleSettleMs);
        if ("room10".equals(workload))
        {
            publisher.joinRooms(connections);
        }
        if (bodies.isAgent())
        {
            publisher.startRuns(bodies, connections, delivered::sum);
        }
        final int recipientsPerEvent = "unicast".equals(workload) ? 1 :
            "room10".equals(workload) ? Math.min(10, connections) : connections;

        if (warmupSeconds > 0)
        {
            runStep(warmupRate > 0 ? warmupRate : rates[0], warmupSeconds, recipientsPerEvent);
        }
        final List<LoadStep> steps = new ArrayList<>();
        int failedInARow = 0;
        for (final int rate : rates)
        {
            final LoadStep step = runStep(rate, stepSeconds, recipientsPerEvent);
            steps.add(step);
            System.out.println(step.line(label != null ? label : target, workload, connections));
            failedInARow = step.sustainable ? 0 : failedInARow + 1;
            if (maxFailedSteps > 0 && failedInARow >= maxFailedSteps)
            {
                break;
            }
        }
        for (final java.util.concurrent.Future<Void> sample : memorySamples)
        {
            sample.get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
        sampler.shutdown();
        int maxSustainable = 0;
        for (final LoadStep step : steps)
        {
            if (step.sustainable && !step.clientSaturated)
            {
                maxSustainable = Math.max(maxSustainable, step.rate);
            }
        }
        final double[] perConnectionKb = ProcStats.perConnectionKb(rssBeforeKb, rssAfterKb, serverPid, connections);
        System.out.printf("%s %s conns=%d maxSustainableRate=%d memoryPerConnection=%.1f KiB (at once: %.1f)%n",
            label != null ? label : target, workload, connections, maxSustainable, perConnectionKb[1],
            perConnectionKb[0]);
        if (out != null)
        {
            final ObjectNode result = JSON.createObjectNode();
            result.put("target", label != null ? label : target);
            result.put("workload", workload);
            result.put("events", events);
            result.put("connections", connections);
            result.put("payloadBytes", payloadBytes);
            result.put("maxSustainableRate", maxSustainable);
            result.put("memoryPerConnectionKb", perConnectionKb[1]);
            result.put("memoryPerConnectionAtOnceKb", perConnectionKb[0]);
            result.set("steps", JSON.valueToTree(steps));
            Files.createDirectories(out.toAbsolutePath().getParent());
            JSON.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), result);
        }
        receiver.close();
        return 0;
    }

    private LoadStep runStep(final int rate, final int seconds, final int recipientsPerEvent) throws Exception
    {
        latency.getIntervalHistogram();
        final long deliveredBefore = delivered.sum();
        final long gapsBefore = gaps.sum();
        final long duplicatesBefore = duplicates.sum();
        final long foreignBefore = foreign.sum();
        final long refusedBefore = publisher.refused.sum();
        final long serverCpuBefore = serverCpuMicros();
        final long redisCpuBefore = ProcStats.cpuMicros(redisPids);
        final long[] readBefore = clusterReads();
        final long clientCpuBefore = ProcStats.selfCpuNanos();
        final long startNs = System.nanoTime();
        final long events = (long)rate * seconds;
        final Semaphore inFlight = new Semaphore(64);
        long sent = 0;
        final AtomicInteger next = new AtomicInteger();
        long nextTickNs = startNs;
        while (sent < events)
        {
            final long nowNs = System.nanoTime();
            if (nowNs < nextTickNs)
            {
                // Sleep rather than spin: the load generator shares a small machine with the server.
                java.util.concurrent.locks.LockSupport.parkNanos(nextTickNs - nowNs);
                continue;
            }
            nextTickNs += TICK_NS;
            final long due = Math.min(events, (nowNs - startNs) * rate / 1_000_000_000L + 1);
            if (due <= sent)
            {
                continue;
            }
            final int batch = (int)Math.min(500, due - sent);
            final StringBuilder body = new StringBuilder(batch * (payloadBytes + 64)).append('[');
            for (int i = 0; i < batch; i++)
            {
                final long intendedNs = startNs + (sent + i) * 1_000_000_000L / rate;
                bodies.append(body.append(i == 0 ? "" : ","), next.getAndIncrement(), intendedNs);
            }
            sent += batch;
            inFlight.acquire();
            publisher.publish(body.append(']').toString()).whenComplete((r, e) -> inFlight.release());
        }
        inFlight.acquire(64);
        final long expected = events * recipientsPerEvent;
        final long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (delivered.sum() - deliveredBefore < expected && System.nanoTime() < drainDeadline)
        {
            Thread.sleep(10);
        }
        final long wallNs = System.nanoTime() - startNs;
        final Histogram histogram = latency.getIntervalHistogram();
        final LoadStep step = new LoadStep();
        step.rate = rate;
        step.offeredEvents = events;
        step.expectedDeliveries = expected;
        step.deliveries = delivered.sum() - deliveredBefore;
        step.deliveredRatio = expected == 0 ? 0 : step.deliveries / (double)expected;
        step.gaps = gaps.sum() - gapsBefore;
        step.duplicates = duplicates.sum() - duplicatesBefore;
        step.foreign = foreign.sum() - foreignBefore;
        step.refusedRequests = publisher.refused.sum() - refusedBefore;
        step.p50Ms = histogram.getValueAtPercentile(50) / 1e6;
        step.p99Ms = histogram.getValueAtPercentile(99) / 1e6;
        step.p999Ms = histogram.getValueAtPercentile(99.9) / 1e6;
        step.maxMs = histogram.getMaxValue() / 1e6;
        if (serverPid > 0 && step.deliveries > 0)
        {
            step.serverCpuMicrosPerDelivery = (serverCpuMicros() - serverCpuBefore) / (double)step.deliveries;
        }
        if (redisPids.length > 0 && redisPids[0] > 0 && events > 0)
        {
            step.redisCpuMicrosPerEvent = (ProcStats.cpuMicros(redisPids) - redisCpuBefore) / (double)events;
        }
        final long[] readAfter = clusterReads();
        if (readAfter.length > 0 && events > 0)
        {
            step.eventsReadPerNode = new double[readAfter.length];
            for (int i = 0; i < readAfter.length; i++)
            {
                step.eventsReadPerNode[i] = (readAfter[i] - readBefore[i]) / (double)events;
            }
        }
        step.clientCpuCores = (ProcStats.selfCpuNanos() - clientCpuBefore) / (double)wallNs;
        if (serverPid > 0)
        {
            // Read beside the next step, not between steps: jcmd takes about a second, and a soak offers its rate
            // without pauses.
            memorySamples.add(sampler.submit(() ->
            {
                step.serverPssKb = ProcStats.pssKb(serverPid);
                step.serverHeapUsedKb = sampleHeap ? ProcStats.heapUsedKb(serverPid) : -1;
                return null;
            }));
        }
        step.clientSaturated = step.clientCpuCores >= 0.9 * Runtime.getRuntime().availableProcessors();
        // Sustainable: (almost) everything delivered, p99 within 50 ms, and every event in order, once, only to its
        // owner. The last three are the server's promise, not a performance figure: any violation fails the step.
        step.sustainable = step.deliveredRatio >= 0.999 && step.p99Ms <= 50 &&
            step.gaps == 0 && step.duplicates == 0 && step.foreign == 0;
        return step;
    }

    private long[] clusterReads()
    {
        return target.startsWith("agentwire") ? ClusterReads.eventsRead(publisher.http(), socketBases) : new long[0];
    }

    private void openConnections() throws Exception
    {
        receiver = new NioReceiver(this::onText);
        final PeerSockets sockets = new PeerSockets(target, base, socketBases, jwtSecret);
        for (int u = 0; u < connections; u++)
        {
            receiver.connect(sockets.uri("load-" + u, u), u);
        }
        receiver.start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (ready.get() < connections && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        if (ready.get() < connections)
        {
            throw new IllegalStateException("only " + ready.get() + " of " + connections + " connections ready (" +
                receiver.upgradedCount() + " upgraded)");
        }
    }

    /** Every text frame, on the receiver thread: records an event's latency, or notes the connection ready. */
    private void onText(
        final ByteBuffer frame, final int from, final int to, final long nowNs, final NioReceiver.Connection connection)
    {
        try
        {
            if ("socketio".equals(target))
            {
                final int length = to - from;
                if (length > 0 && frame.get(from) == '0')
                {
                    NioReceiver.sendText(connection, "40");
                    return;
                }
                if (length == 1 && frame.get(from) == '2')
                {
                    NioReceiver.sendText(connection, "3");
                    return;
                }
                if (length >= 2 && frame.get(from) == '4' && frame.get(from + 1) == '0')
                {
                    markReady(connection);
                    return;
                }
            }
            final long intendedNs = FrameFields.intendedTime(frame, from, to);
            if (intendedNs != Long.MIN_VALUE)
            {
                latency.recordValue(Math.max(0, nowNs - intendedNs));
                delivered.increment();
                checkIntegrity(frame, from, to, connection);
            }
            else if (!"socketio".equals(target))
            {
                markReady(connection);
            }
        }
        catch (final java.io.IOException ex)
        {
            connection.closed = true;
        }
    }

    /** Every event in order, once, only to its owner: seqs contiguous per connection, addressee this connection. */
    private void checkIntegrity(
        final ByteBuffer frame, final int from, final int to, final NioReceiver.Connection connection)
    {
        final long seq = FrameFields.numberAfter(frame, from, to, FrameFields.SEQ_FIELD);
        if (seq != Long.MIN_VALUE)
        {
            if (seq <= connection.lastSeq)
            {
                duplicates.increment();
            }
            else
            {
                if (seq != connection.lastSeq + 1)
                {
                    gaps.add(seq - connection.lastSeq - 1);
                }
                connection.lastSeq = seq;
            }
        }
        final long addressee = FrameFields.numberAfter(frame, from, to, FrameFields.ADDRESSEE_FIELD);
        final long expected = "unicast".equals(workload) ? connection.index :
            "room10".equals(workload) ? connection.index / 10 : -1;
        if (addressee != expected)
        {
            foreign.increment();
        }
    }

    private void markReady(final NioReceiver.Connection connection)
    {
        if (!connection.ready)
        {
            connection.ready = true;
            ready.incrementAndGet();
        }
    }

    /** Server CPU: the target process plus any other nodes. */
    private long serverCpuMicros()
    {
        return ProcStats.cpuMicros(serverPid) + ProcStats.cpuMicros(ProcStats.pids(extraPids));
    }
}
