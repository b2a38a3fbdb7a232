package dev.agentwire.server;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;

import java.nio.file.Files;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of what agent runtimes send on the producer socket ({@code /v1/producer}), through a real
 * server and a real socket: events, native AG-UI batches ({@code ag_ui} frames) and anything else. Every frame is
 * answered — an ack or a nack — and the socket goes on, or it is closed with a documented code: a probe frame sent
 * after each input must be acked, proving the input was answered in order and nothing hung. Inputs in
 * {@code src/test/resources/.../ProducerSocketFuzzTestInputs}.
 */
class ProducerSocketFuzzTest
{
    private static final Set<Integer> DOCUMENTED_CLOSES = Set.of(1007, 1009, 4002, 4004);
    private static ServerFixture fixture;
    private static WsClient producer;
    private static long probes;

    @AfterAll
    static void stop()
    {
        if (fixture != null)
        {
            fixture.close();
        }
    }

    @FuzzTest(maxDuration = "20s")
    void shouldAnswerEveryFrameAndKeepServing(final FuzzedDataProvider data) throws Exception
    {
        final boolean agUi = data.consumeBoolean();
        final String body = data.consumeRemainingAsString();
        // Half the inputs are shaped as native AG-UI frames, so the fuzzer reaches the run rules quickly.
        final String text = agUi ? "{\"ref\":\"f\",\"ag_ui\":" + body + "}" : body;
        connected();
        producer.messages.clear();
        try
        {
            producer.send(text);
        }
        catch (final IllegalArgumentException malformedForTheJdkClient)
        {
            return; // unpaired surrogates: the JDK client refuses to send them, nothing reached the server
        }
        catch (final java.util.concurrent.CompletionException closed)
        {
            assertClosedWithADocumentedCode(text);
            return;
        }
        final String probe = "probe-" + (++probes);
        producer.send("{\"ref\":\"" + probe + "\",\"user\":\"fuzz\",\"type\":\"app.probe\",\"data\":{}}");
        int answers = 0;
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadlineNs)
        {
            final JsonNode message = producer.messages.poll(50, TimeUnit.MILLISECONDS);
            if (message != null && ("ack".equals(message.path("type").asText()) ||
                "nack".equals(message.path("type").asText())))
            {
                answers++;
                if (probe.equals(message.path("ref").asText()))
                {
                    assertTrue("ack".equals(message.path("type").asText()), "the probe was refused: " + message);
                    assertTrue(answers == 2, "the input got " + (answers - 1) + " answers, not one: " + text);
                    return;
                }
            }
            if (producer.closeCode.isDone())
            {
                assertClosedWithADocumentedCode(text);
                return;
            }
        }
        throw new AssertionError("no ack of the probe after the input: " + text);
    }

    private static void assertClosedWithADocumentedCode(final String text) throws Exception
    {
        final Integer code = producer.closeCode.get(5, TimeUnit.SECONDS);
        assertNotNull(code);
        assertTrue(DOCUMENTED_CLOSES.contains(code), "closed " + code + " after: " + text);
        producer = null;
    }

    private static void connected() throws Exception
    {
        if (fixture == null)
        {
            fixture = new ServerFixture(Files.createTempDirectory("agentwire-fuzz"), b -> b.producerRatePerSec(1_000_000)
                .producerBurst(1_000_000));
        }
        if (producer == null || producer.closeCode.isDone())
        {
            producer = fixture.producerSocket();
        }
    }
}
