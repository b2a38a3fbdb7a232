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
 * Coverage-guided fuzzing of what users may send, through a real server and a real socket: whatever the text, the
 * server answers it (or passes it to the runtime) and goes on serving the connection, or closes it with a
 * documented code; a ping sent after each input must come back, proving the input was handled and nothing hung.
 * The server runs in this JVM, so the fuzzer sees the coverage of the client protocol's code. Inputs in
 * {@code src/test/resources/.../ClientProtocolFuzzTestInputs}; crashes found become inputs there.
 */
class ClientProtocolFuzzTest
{
    private static final Set<Integer> DOCUMENTED_CLOSES = Set.of(1007, 1009, 4002, 4003);
    private static ServerFixture fixture;
    private static WsClient client;

    @AfterAll
    static void stop()
    {
        if (fixture != null)
        {
            fixture.close();
        }
    }

    @FuzzTest(maxDuration = "20s")
    void shouldAnswerEveryMessageAndKeepServing(final FuzzedDataProvider data) throws Exception
    {
        final String text = data.consumeRemainingAsString();
        connected();
        client.messages.clear();
        try
        {
            client.send(text);
        }
        catch (final IllegalArgumentException malformedForTheJdkClient)
        {
            return; // the client itself refuses to send unpaired surrogates: nothing reached the server
        }
        catch (final java.util.concurrent.CompletionException closed)
        {
            assertClosedWithADocumentedCode(text);
            return;
        }
        client.send("{\"type\":\"ping\"}");
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadlineNs)
        {
            final JsonNode message = client.messages.poll(50, TimeUnit.MILLISECONDS);
            if (message != null && "pong".equals(message.path("type").asText()))
            {
                return;
            }
            if (client.closeCode.isDone())
            {
                assertClosedWithADocumentedCode(text);
                return;
            }
        }
        throw new AssertionError("no pong after the input, the connection neither answered nor closed: " + text);
    }

    private static void assertClosedWithADocumentedCode(final String text) throws Exception
    {
        final Integer code = client.closeCode.get(5, TimeUnit.SECONDS);
        assertNotNull(code);
        assertTrue(DOCUMENTED_CLOSES.contains(code), "closed " + code + " after: " + text);
        client = null;
    }

    private static void connected() throws Exception
    {
        if (fixture == null)
        {
            fixture = new ServerFixture(Files.createTempDirectory("agentwire-fuzz"), b -> b.inboundRatePerSec(100_000)
                .inboundBurst(100_000).maxBadMessages(1_000_000));
        }
        if (client == null || client.closeCode.isDone())
        {
            // A token that outlives any run (a minute's, the fixture's default, closed 4001 runs longer than that).
            client = fixture.connectWith(Tokens.hs256("fuzz", TimeUnit.DAYS.toMillis(1), "lobby"), null);
            client.next(5_000);
        }
    }
}
