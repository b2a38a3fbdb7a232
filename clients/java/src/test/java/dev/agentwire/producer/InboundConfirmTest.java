package dev.agentwire.producer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Users' messages confirmed as the handler takes them: what a runtime had read but not handled when its connection
 * broke goes to a runtime again, marked redelivered; the first hands on none it knows came on a connection that ended.
 */
@Timeout(60)
class InboundConfirmTest
{
    private TestServer server;

    @BeforeEach
    void start()
    {
        server = new TestServer();
    }

    @AfterEach
    void stop()
    {
        server.close();
    }

    @Test
    void shouldHandWhatABrokenConnectionHadQueuedUnhandledToARuntimeAgainMarkedRedelivered() throws Exception
    {
        // Before: what the server had written to the socket was the runtime's. Messages read into the client's queue
        // when the connection broke were still handed to the handler from there; had the process died instead, they
        // were lost without a word.
        final CountDownLatch release = new CountDownLatch(1);
        final Queue<String> handled = new ConcurrentLinkedQueue<>();
        try (TestServer.UserSocket user = server.new UserSocket("patient");
             TestServer.Proxy proxy = server.new Proxy();
             AgentWireProducer first = socketProducer(proxy.url());
             AgentWireProducer second = socketProducer(server.url()))
        {
            first.onInbound(message -> take(handled, "first", message, release));
            for (int n = 0; n < 6; n++)
            {
                user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"m" + n + "\"}}");
            }
            // The first runtime's handler holds m0; m1 to m5 wait in its queue, read but not handed to it.
            await(() -> handled.contains("first m0"), "the first runtime took m0");
            second.onInbound(message -> take(handled, "second", message, release));

            proxy.cutAll();
            await(() -> redelivered() == 5, "the server handed m1 to m5 back");
            release.countDown();
            await(() -> handled.stream().filter(h -> h.endsWith(" redelivered")).count() == 5,
                "m1 to m5 were handled again");
            // The first runtime, connected again, takes a message of its turn only after what its queue held.
            for (int n = 0; n < 40 && handled.stream().noneMatch(h -> h.startsWith("first probe")); n++)
            {
                user.send("{\"type\":\"user_message\",\"thread_id\":\"th\",\"data\":{\"text\":\"probe" + n + "\"}}");
                Thread.sleep(250);
            }
            await(() -> handled.stream().anyMatch(h -> h.startsWith("first probe")), "the first runtime is back");

            // Each of m1 to m5 once marked, by either runtime (the first may be back in time for some). The first
            // may also have taken one from its queue before its client saw the connection end: its confirm then went
            // into a dead connection, so the server sent it on too (at least once, never lost: docs/PROTOCOL.md).
            assertEquals(List.of("first m0"), handled.stream().filter(h -> h.contains(" m0")).toList(), "" + handled);
            for (int n = 1; n <= 5; n++)
            {
                final String text = " m" + n;
                assertEquals(1, handled.stream().filter(h -> h.endsWith(text + " redelivered")).count(), "" + handled);
                assertTrue(handled.stream().filter(h -> h.endsWith(text)).allMatch(h -> h.equals("first" + text)) &&
                    handled.stream().filter(h -> h.endsWith(text)).count() <= 1, "" + handled);
            }
        }
    }

    private static AgentWireProducer socketProducer(final String url)
    {
        return AgentWireProducer.connect(ProducerConfig.builder(url, TestServer.KEY)
            .transport(ProducerConfig.Transport.SOCKET).heartbeatMs(500).build());
    }

    private static void take(final Queue<String> handled, final String runtime, final Inbound message,
        final CountDownLatch release)
    {
        if (!"user_message".equals(message.type()))
        {
            return;
        }
        handled.add(runtime + " " + message.text() + (message.redelivered() ? " redelivered" : ""));
        if ("m0".equals(message.text()))
        {
            try
            {
                release.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    private long redelivered()
    {
        final String metrics;
        try
        {
            metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        }
        catch (final java.io.IOException | InterruptedException ex)
        {
            throw new IllegalStateException(ex);
        }
        return metrics.lines().filter(l -> l.startsWith("agentwire_producer_messages_redelivered_total "))
            .mapToLong(l -> (long)Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElse(-1);
    }

    private static void await(final BooleanSupplier condition, final String what) throws Exception
    {
        final long deadline = System.nanoTime() + 15_000_000_000L;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("not within 15 s: " + what);
            }
            Thread.sleep(20);
        }
    }
}
