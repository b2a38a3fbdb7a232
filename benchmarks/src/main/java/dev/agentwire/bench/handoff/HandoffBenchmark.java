package dev.agentwire.bench.handoff;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

import java.util.concurrent.TimeUnit;

/**
 * Publish → slice hand-off: the event is published by a producer thread and is in the user's subscriber's hands
 * (numbered, recorded in history, handed to the subscription) on the consuming side.
 * <p>
 * Three implementations side by side in one run, 10,000 users, 200-byte payloads, 1 and 4 producers:
 * <ul>
 *   <li>{@code agentWire}: the real engine (one ring, slices, history, bounded subscriber queues);</li>
 *   <li>{@code naive}: {@link NaiveManager}, producers fanning out under a lock;</li>
 *   <li>{@code disruptor}: the bare Disruptor with a handler that only notes the hand-off (the in-process floor).</li>
 * </ul>
 * {@code throughput*} methods measure sustained publishes per second (bounded by the consumer through
 * back-pressure); {@code latency*} methods publish one event and wait until its subscriber has it, sampled, so the
 * percentiles are those of the hand-off itself. Both engines that keep history start each trial in their steady
 * state (full histories, AgentWire's log wrapped once: {@link Seen#prefillPerUser}); the floor keeps none.
 */
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-Xms2g", "-Xmx2g",
    "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HandoffBenchmark
{
    static final int USERS = 10_000;
    static final int PAYLOAD_BYTES = 200;
    static final int MAX_PRODUCERS = 4;
    static final String TYPE = "bench.delta";
    static final String RUN_ID = "bench-run";
    /**
     * Per-user history for both engines: 10,000 users x 64 events x ~300 bytes stays well inside the 2 GiB heap,
     * so neither side is measured thrashing the collector.
     */
    static final int HISTORY_MAX_EVENTS = 64;
    static String[] userIds()
    {
        final String[] ids = new String[USERS];
        for (int i = 0; i < USERS; i++)
        {
            ids[i] = "user-" + i;
        }
        return ids;
    }

    /** A producer thread's own users (so latency waits are per thread) and its cursor over them. */
    @State(Scope.Thread)
    public static class Producer
    {
        int first;
        int span;
        int next;
        final long[] published = new long[USERS];
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_BYTES]);
        final byte[] payloadBytes = new byte[PAYLOAD_BYTES];
        final EventDraft draft = new EventDraft();

        @Setup(Level.Trial)
        public void setUp(final ThreadParams params)
        {
            final int threads = Math.min(params.getThreadCount(), MAX_PRODUCERS);
            span = USERS / threads;
            first = (params.getThreadIndex() % threads) * span;
        }

        int nextUser()
        {
            final int user = first + next;
            next = next + 1 == span ? 0 : next + 1;
            return user;
        }
    }

    @State(Scope.Benchmark)
    public static class AgentWireState
    {
        /** Slices: on a 2-core machine one slice leaves the other core to the producers. */
        @Param({"1"})
        public int slices;

        /** How slices wait; the floor uses YIELDING. */
        @Param({"YIELDING"})
        public String waitStrategy;

        /**
         * The log's budget ({@code historyMaxTotalBytes}), MiB: 10,000 users x 64 events x 320 bytes is 205 MB, so at
         * 512 the histories are bounded by count, as the naive manager's are, and the prefill takes seconds.
         */
        @Param({"512"})
        public int historyMiB;

        AgentWire wire;
        String[] users;
        final Seen seen = new Seen();

        @Setup(Level.Trial)
        public void setUp()
        {
            users = userIds();
            wire = AgentWire.start(AgentWireConfig.builder()
                .sliceCount(slices)
                .waitStrategy(AgentWireConfig.WaitStrategy.valueOf(waitStrategy))
                .lifecycleMode(AgentWireConfig.LifecycleMode.OFF)
                .dedupWindowMs(0)
                .historyMaxEvents(HISTORY_MAX_EVENTS)
                .historyMaxTotalBytes((long)historyMiB << 20)
                .build());
            for (int u = 0; u < USERS; u++)
            {
                wire.subscribe(users[u], new DrainingSubscriber(seen, u));
            }
            final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_BYTES]);
            final EventDraft draft = new EventDraft();
            seen.prefill("agentWire", Seen.prefillPerUser(wire.config().sliceLogCapacity()), user ->
            {
                draft.reset().toUser(users[user]).type(TYPE).runId(RUN_ID).payload(payload, 0, PAYLOAD_BYTES);
                final long position = wire.publish(draft);
                if (position < 0)
                {
                    throw new IllegalStateException("prefill publish refused: status=" + position);
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            wire.close();
        }
    }

    @State(Scope.Benchmark)
    public static class NaiveState
    {
        NaiveManager manager;
        String[] users;
        final Seen seen = new Seen();

        @Setup(Level.Trial)
        public void setUp()
        {
            users = userIds();
            manager = new NaiveManager(HISTORY_MAX_EVENTS);
            for (int u = 0; u < USERS; u++)
            {
                final int user = u;
                manager.subscribe(users[u], event -> seen.seqs.lazySet(user, event.seq));
            }
            // Full histories, as AgentWire's: every measured publish drops the user's oldest event.
            final byte[] payload = new byte[PAYLOAD_BYTES];
            seen.prefill("naive", HISTORY_MAX_EVENTS + 1, user ->
                manager.publish(users[user], TYPE, RUN_ID, payload, PAYLOAD_BYTES));
        }
    }

    /** The floor: a multi-producer ring whose handler copies nothing and only notes the hand-off. */
    static final class FloorSlot
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[PAYLOAD_BYTES]);
        int user;
        long seq;
    }

    @State(Scope.Benchmark)
    public static class DisruptorState
    {
        Disruptor<FloorSlot> disruptor;
        RingBuffer<FloorSlot> ring;
        final Seen seen = new Seen();

        @Setup(Level.Trial)
        public void setUp()
        {
            disruptor = new Disruptor<>(FloorSlot::new, AgentWireConfig.DEFAULT_RING_SIZE, r ->
            {
                final Thread t = new Thread(r, "floor-handler");
                t.setDaemon(true);
                return t;
            }, ProducerType.MULTI, new YieldingWaitStrategy());
            final EventHandler<FloorSlot> handler = (slot, sequence, endOfBatch) ->
                seen.seqs.lazySet(slot.user, slot.seq);
            disruptor.handleEventsWith(handler);
            ring = disruptor.start();
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            disruptor.shutdown();
        }

        void publish(final Producer p, final int user, final long seq)
        {
            final long position = ring.next();
            try
            {
                final FloorSlot slot = ring.get(position);
                slot.payload.putBytes(0, p.payload, 0, PAYLOAD_BYTES);
                slot.user = user;
                slot.seq = seq;
            }
            finally
            {
                ring.publish(position);
            }
        }
    }

    static long agentWirePublish(final AgentWireState s, final Producer p)
    {
        final int user = p.nextUser();
        p.payload.putLong(0, ++p.published[user]);
        p.draft.reset().toUser(s.users[user]).type(TYPE).runId(RUN_ID).payload(p.payload, 0, PAYLOAD_BYTES);
        return s.wire.publish(p.draft);
    }

    static long naivePublish(final NaiveState s, final Producer p)
    {
        final int user = p.nextUser();
        p.payloadBytes[0] = (byte)++p.published[user];
        return s.manager.publish(s.users[user], TYPE, RUN_ID, p.payloadBytes, PAYLOAD_BYTES);
    }

    static long disruptorPublish(final DisruptorState s, final Producer p)
    {
        final int user = p.nextUser();
        final long seq = ++p.published[user];
        s.publish(p, user, seq);
        return seq;
    }

    // Throughput: sustained publishes per second.

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @Threads(1)
    public long throughputAgentWire1p(final AgentWireState s, final Producer p)
    {
        return agentWirePublish(s, p);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @Threads(4)
    public long throughputAgentWire4p(final AgentWireState s, final Producer p)
    {
        return agentWirePublish(s, p);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @Threads(1)
    public long throughputNaive1p(final NaiveState s, final Producer p)
    {
        return naivePublish(s, p);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @Threads(4)
    public long throughputNaive4p(final NaiveState s, final Producer p)
    {
        return naivePublish(s, p);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @Threads(1)
    public long throughputDisruptor1p(final DisruptorState s, final Producer p)
    {
        return disruptorPublish(s, p);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @Threads(4)
    public long throughputDisruptor4p(final DisruptorState s, final Producer p)
    {
        return disruptorPublish(s, p);
    }

    // Latency: publish one event, wait until its subscriber has it; sampled.

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Threads(1)
    public void latencyAgentWire1p(final AgentWireState s, final Producer p)
    {
        agentWirePublish(s, p);
        s.seen.awaitAtLeast(lastUser(p), p.published[lastUser(p)]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Threads(4)
    public void latencyAgentWire4p(final AgentWireState s, final Producer p)
    {
        agentWirePublish(s, p);
        s.seen.awaitAtLeast(lastUser(p), p.published[lastUser(p)]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Threads(1)
    public void latencyNaive1p(final NaiveState s, final Producer p)
    {
        naivePublish(s, p);
        s.seen.awaitAtLeast(lastUser(p), p.published[lastUser(p)]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Threads(4)
    public void latencyNaive4p(final NaiveState s, final Producer p)
    {
        naivePublish(s, p);
        s.seen.awaitAtLeast(lastUser(p), p.published[lastUser(p)]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Threads(1)
    public void latencyDisruptor1p(final DisruptorState s, final Producer p)
    {
        disruptorPublish(s, p);
        s.seen.awaitAtLeast(lastUser(p), p.published[lastUser(p)]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Threads(4)
    public void latencyDisruptor4p(final DisruptorState s, final Producer p)
    {
        disruptorPublish(s, p);
        s.seen.awaitAtLeast(lastUser(p), p.published[lastUser(p)]);
    }

    private static int lastUser(final Producer p)
    {
        return p.first + (p.next == 0 ? p.span - 1 : p.next - 1);
    }
}
