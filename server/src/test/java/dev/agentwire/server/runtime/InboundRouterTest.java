package dev.agentwire.server.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where a user's message goes is decided once: embedded handler, a producer socket here, a runtime on another node,
 * or nobody ({@code no_agent}). A runtime leaving is "nobody", never a handler failure.
 */
class InboundRouterTest
{
    private static final String TEXT =
        "{\"type\":\"user_message\",\"thread_id\":\"t1\",\"run_id\":\"r1\",\"data\":{\"text\":\"hi\"},\"extra\":1}";

    /** A producer socket that records what it is sent. */
    private static final class Recording implements RuntimeChannel
    {
        final List<JsonNode> frames = new CopyOnWriteArrayList<>();

        volatile boolean full;

        @Override
        public boolean send(final byte[] frame)
        {
            if (full)
            {
                return false;
            }
            try
            {
                frames.add(Json.MAPPER.readTree(frame));
            }
            catch (final java.io.IOException ex)
            {
                throw new AssertionError(ex);
            }
            return true;
        }

        @Override
        public String remote()
        {
            return "test";
        }
    }

    private final RuntimeChannels channels = new RuntimeChannels();
    private final InboundRouter router = new InboundRouter(channels, RemoteRuntimes.NONE, Set::of);

    @Test
    void shouldAnswerNoAgentWhenTheLastRuntimeLeftBeforeTheMessage() throws Exception
    {
        final Recording runtime = new Recording();
        router.attach(runtime);
        router.detach(runtime);

        assertEquals(InboundRouter.NO_AGENT, router.route("ann", "user_message", Json.MAPPER.readTree(TEXT), TEXT));
        assertEquals("no_agent", InboundRouter.errorCode(InboundRouter.NO_AGENT));
        assertTrue(runtime.frames.isEmpty());
    }

    @Test
    void shouldForwardTheMessagesOwnFieldsWithTheAuthenticatedSender() throws Exception
    {
        final Recording runtime = new Recording();
        router.attach(runtime);

        assertEquals(InboundRouter.DELIVERED, router.route("ann", "user_message", Json.MAPPER.readTree(TEXT), TEXT));
        final JsonNode frame = runtime.frames.get(0);
        assertEquals("user_message", frame.get("type").asText());
        assertEquals("ann", frame.get("user").asText());
        assertEquals("t1", frame.get("thread_id").asText());
        assertEquals("r1", frame.get("run_id").asText());
        assertEquals("hi", frame.get("data").get("text").asText());
        assertFalse(frame.has("extra"), "only the documented fields are forwarded");
    }

    @Test
    void shouldPassOverARuntimeThatIsNotReadingAndSayBusyWhenNoneIs() throws Exception
    {
        final Recording stalled = new Recording();
        final Recording reading = new Recording();
        stalled.full = true;
        router.attach(stalled);
        router.attach(reading);
        for (int i = 0; i < 4; i++)
        {
            assertEquals(InboundRouter.DELIVERED, router.route("ann", "user_message", Json.MAPPER.readTree(TEXT), TEXT));
        }
        assertEquals(4, reading.frames.size(), "every message went to the runtime that reads");
        reading.full = true;
        assertEquals(InboundRouter.AGENT_BUSY, router.route("ann", "user_message", Json.MAPPER.readTree(TEXT), TEXT));
        assertEquals("agent_busy", InboundRouter.errorCode(InboundRouter.AGENT_BUSY));
    }

    @Test
    void shouldPreferTheEmbeddedHandlerAndReportItsFailureAsAgentError() throws Exception
    {
        final Recording runtime = new Recording();
        router.attach(runtime);
        final List<String> seen = new CopyOnWriteArrayList<>();
        router.onInbound("user_message", (user, type, buffer, offset, length) ->
            seen.add(user + ":" + buffer.getStringWithoutLengthUtf8(offset, length)));

        assertEquals(InboundRouter.DELIVERED, router.route("ann", "user_message", Json.MAPPER.readTree(TEXT), TEXT));
        assertEquals(List.of("ann:" + TEXT), seen, "the embedded handler gets the message as sent");
        assertTrue(runtime.frames.isEmpty(), "producer sockets do not get what the embedded runtime took");

        router.onInbound("user_message", (user, type, buffer, offset, length) ->
        {
            throw new IllegalStateException("runtime bug");
        });
        assertEquals(InboundRouter.AGENT_ERROR, router.route("ann", "user_message", Json.MAPPER.readTree(TEXT), TEXT));
        assertEquals("agent_error", InboundRouter.errorCode(InboundRouter.AGENT_ERROR));
    }
}
