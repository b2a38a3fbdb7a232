package dev.agentwire.server;

import dev.agentwire.core.AgentWire;
import dev.agentwire.core.EventDraft;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole delivery path allocates nothing per event in steady state: the thread that publishes into the engine,
 * the slice threads that number, record and frame each event, and the I/O threads that copy the frames to the
 * users' sockets. Measured with the JVM's per-thread allocation counters over thousands of events delivered to
 * real WebSocket clients, after a warm-up. (The HTTP ingest is not on this path: each request costs Undertow its
 * exchange, whatever its events.) Both user protocols: {@code /v1/ws}, where frames are copied, and
 * {@code /v1/ag-ui}, where each event is mapped to its AG-UI group per connection (a thinking event with text
 * becomes five AG-UI events, a tool call with arguments three, its result and an application event one each).
 */
@Timeout(120)
final class WholePathAllocationTest
{
    private static final int USERS = 32;
    private static final int WARMUP_EVENTS = 40_000;
    private static final int MEASURED_EVENTS = 8_000;
    private static final int BURST = USERS * 16;
    /**
     * What the measured threads may allocate in all: under 8 bytes an event, where one 16-byte object per event
     * would be 128,000 bytes. AgentWire's code allocates nothing here; XNIO's event loop does, per wake-up rather
     * than per event (an empty varargs array for its trace logging in {@code execute} and {@code select}, and an
     * iterator over its timer set each turn): 1 to 5 bytes an event in this test's bursts, varying with how many
     * wake-ups the scheduler makes.
     */
    private static final long ALLOWANCE_BYTES = 64 * 1024;

    @TempDir
    Path dir;
    private ServerFixture fixture;
    private final List<WebSocket> sockets = new ArrayList<>();

    @BeforeEach
    void start()
    {
        fixture = new ServerFixture(dir, b -> { });
    }

    @AfterEach
    void stop()
    {
        for (final WebSocket socket : sockets)
        {
            socket.abort();
        }
        fixture.close();
    }

    @Test
    void shouldAllocateNothingPerEventFromPublishToSocket() throws Exception
    {
        measure("/v1/ws");
    }

    @Test
    void shouldAllocateNothingPerEventFromPublishToAnAgUiSocket() throws Exception
    {
        measure("/v1/ag-ui");
    }

    /** AG-UI events a burst's event makes, by its place in the burst (see {@link #publish}). */
    private static int framesOf(final String path, final int index)
    {
        if (!path.equals("/v1/ag-ui"))
        {
            return 1;
        }
        switch (index % 4)
        {
            case 1:
                return 5;
            case 2:
                return 3;
            default:
                return 1;
        }
    }

    private void measure(final String path) throws Exception
    {
        final java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "per-thread allocation counter available");
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)bean;
        assumeTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);

        final AtomicLong received = new AtomicLong();
        final String[] users = new String[USERS];
        for (int i = 0; i < USERS; i++)
        {
            users[i] = "alloc-" + i;
            sockets.add(connectCounting(path, users[i], received));
        }
        awaitCount(received, USERS); // the welcomes

        final AgentWire engine = fixture.server.engine();
        final EventDraft draft = new EventDraft();
        final byte[] json = ("{\"n\":0000000000,\"pad\":\"" + "x".repeat(160) + "\"}").getBytes(StandardCharsets.US_ASCII);
        final UnsafeBuffer payload = new UnsafeBuffer(json);

        final byte[] thinking = ("{\"text\":\"0000000000 " + "y".repeat(120) + "\"}").getBytes(StandardCharsets.US_ASCII);
        final byte[] tool = ("{\"tool\":\"search\",\"tool_call_id\":\"c-0000000000\",\"args\":{\"q\":\"" +
            "z".repeat(100) + "\",\"n\":3}}").getBytes(StandardCharsets.US_ASCII);
        final byte[] result = "{\"tool_call_id\":\"c-0000000000\",\"result\":{\"hits\":[1,2,3]}}"
            .getBytes(StandardCharsets.US_ASCII);
        final UnsafeBuffer[] payloads = {payload, new UnsafeBuffer(thinking), new UnsafeBuffer(tool),
            new UnsafeBuffer(result)};
        final String[] callIds = new String[USERS];
        for (int i = 0; i < USERS; i++)
        {
            callIds[i] = "call-" + i;
            draft.reset().toUser(users[i]).type("agent_started").runId("run-1").threadId("thread-1").payload("{}");
            assertTrue(engine.publish(draft) >= 0, "run started");
        }
        awaitCount(received, 2L * USERS);

        publish(path, engine, draft, payloads, callIds, users, received, WARMUP_EVENTS);

        final long[] ids = pathThreads(threads);
        final long[] before = threads.getThreadAllocatedBytes(ids);
        publish(path, engine, draft, payloads, callIds, users, received, MEASURED_EVENTS);
        final long[] after = threads.getThreadAllocatedBytes(ids);

        long allocated = 0;
        final StringBuilder byThread = new StringBuilder();
        for (int i = 0; i < ids.length; i++)
        {
            final long bytes = after[i] - before[i];
            allocated += bytes;
            byThread.append(threadName(ids[i])).append('=').append(bytes).append(' ');
        }
        assertTrue(allocated < ALLOWANCE_BYTES,
            path + ": allocated " + allocated + " bytes over " + MEASURED_EVENTS + " events: " + byThread);
    }

    /**
     * Publishes in bursts of 16 events per user, each burst delivered before the next: steady state, no backlog (no
     * connection holds pending bytes), and a drain sends several frames per wake-up, as under load.
     */
    private static void publish(
        final String path,
        final AgentWire engine,
        final EventDraft draft,
        final UnsafeBuffer[] payloads,
        final String[] callIds,
        final String[] users,
        final AtomicLong received,
        final int events)
    {
        long expected = received.get();
        for (int sent = 0; sent < events; sent += BURST)
        {
            for (int i = 0; i < BURST; i++)
            {
                // Users are served in turn, so each user's events cycle through the four kinds: an application
                // event, thinking, a tool call and its result (the call's id is the user's, open one at a time).
                final int kind = (i / USERS) % 4;
                final UnsafeBuffer payload = payloads[kind];
                payload.putNaturalPaddedIntAscii(kind == 2 ? 35 : kind == 3 ? 19 : kind == 1 ? 9 : 5, 10, sent + i);
                draft.reset().toUser(users[i % USERS]).payload(payload, 0, payload.capacity());
                if (kind == 0)
                {
                    draft.type("app.alloc");
                }
                else
                {
                    draft.type(kind == 1 ? "agent_thinking" : kind == 2 ? "tool_executing" : "tool_completed")
                        .runId("run-1").threadId("thread-1");
                    if (kind >= 2)
                    {
                        draft.toolCallId(callIds[i % USERS]);
                    }
                }
                final long position = engine.publish(draft);
                if (position < 0)
                {
                    throw new AssertionError("refused: status=" + position);
                }
                expected += framesOf(path, kind);
            }
            awaitCount(received, expected);
        }
    }

    private static void awaitCount(final AtomicLong received, final long count)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (received.get() < count)
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("received " + received.get() + " of " + count);
            }
            Thread.onSpinWait();
        }
    }

    /** The publishing thread, the slice threads and the I/O threads. */
    private static long[] pathThreads(final com.sun.management.ThreadMXBean threads)
    {
        final List<Long> ids = new ArrayList<>();
        ids.add(Thread.currentThread().getId());
        for (final long id : threads.getAllThreadIds())
        {
            final String name = threadName(id);
            if (name.startsWith("agentwire-slice") || (name.startsWith("XNIO-") && name.contains("I/O")))
            {
                ids.add(id);
            }
        }
        assertTrue(ids.size() >= 3, "publisher, slices and I/O threads found: " + ids.size());
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    private static String threadName(final long id)
    {
        final java.lang.management.ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(id);
        return info == null ? "gone-" + id : info.getThreadName();
    }

    /** A JDK WebSocket client that only counts whole messages (it parses nothing: cheap, and off the path). */
    private WebSocket connectCounting(final String path, final String user, final AtomicLong received)
        throws Exception
    {
        final WebSocket.Listener listener = new WebSocket.Listener()
        {
            @Override
            public CompletionStage<?> onText(final WebSocket socket, final CharSequence data, final boolean last)
            {
                if (last)
                {
                    received.incrementAndGet();
                }
                socket.request(1);
                return null;
            }
        };
        return WsClient.HTTP.newWebSocketBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .header("Authorization", "Bearer " + Tokens.hs256(user, 600_000))
            // On /v1/ag-ui with a cursor: no prelude, a plain live stream.
            .buildAsync(path.equals("/v1/ws") ? fixture.ws(null) :
                URI.create("ws://127.0.0.1:" + fixture.server.port() + path + "?epoch=0&after=0"), listener)
            .get(10, TimeUnit.SECONDS);
    }
}
