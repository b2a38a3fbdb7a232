package dev.agentwire.server.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;

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

    /** Runtimes on other nodes, as a cluster node sees them: what it forwards, and the answer it is given. */
    private static final class Elsewhere implements RemoteRuntimes
    {
        final List<JsonNode> forwarded = new CopyOnWriteArrayList<>();
        volatile boolean any = true;
        volatile boolean ready = true;
        volatile int answer = InboundRouter.DELIVERED;

        @Override
        public boolean anyProducers()
        {
            return any;
        }

        @Override
        public boolean anyReady()
        {
            return any && ready;
        }

        @Override
        public void forward(final byte[] message, final IntConsumer done)
        {
            try
            {
                forwarded.add(Json.MAPPER.readTree(message));
            }
            catch (final java.io.IOException ex)
            {
                throw new AssertionError(ex);
            }
            done.accept(answer);
        }

        @Override
        public void producersChanged()
        {
        }
    }

    private final RuntimeChannels channels = new RuntimeChannels();
    private final InboundRouter router = new InboundRouter(channels, RemoteRuntimes.NONE, Set::of);

    /** @return the outcome this node decided, before route returned (a single node decides every one at once). */
    private int route() throws Exception
    {
        return route(router);
    }

    private static int route(final InboundRouter router) throws Exception
    {
        final int[] status = {Integer.MIN_VALUE};
        router.route("ann", "user_message", Json.MAPPER.readTree(TEXT), TEXT, routed -> status[0] = routed);
        assertTrue(status[0] != Integer.MIN_VALUE, "decided before route returned");
        return status[0];
    }

    @Test
    void shouldForwardToOtherNodesOnlyWhatThisNodesRuntimesDoNotTakeAndPassOnTheClustersAnswer() throws Exception
    {
        final Elsewhere elsewhere = new Elsewhere();
        final InboundRouter node = new InboundRouter(new RuntimeChannels(), elsewhere, Set::of);
        final RecordingChannel own = new RecordingChannel();
        node.attach(own);

        assertEquals(InboundRouter.DELIVERED, route(node));
        assertEquals(1, own.frames.size(), "this node's runtime first");
        assertTrue(elsewhere.forwarded.isEmpty());

        own.room = 0;
        assertEquals(InboundRouter.DELIVERED, route(node));
        assertEquals("ann", elsewhere.forwarded.get(0).get("user").asText(), "then another node's");
        elsewhere.answer = InboundRouter.UNAVAILABLE;
        assertEquals(InboundRouter.UNAVAILABLE, route(node));
        assertEquals("unavailable", InboundRouter.errorCode(InboundRouter.UNAVAILABLE));
        elsewhere.answer = InboundRouter.OUTCOME_UNKNOWN;
        assertEquals(InboundRouter.OUTCOME_UNKNOWN, route(node));
        assertEquals("outcome_unknown", InboundRouter.errorCode(InboundRouter.OUTCOME_UNKNOWN));

        elsewhere.ready = false;
        assertEquals(InboundRouter.AGENT_BUSY, route(node), "other nodes' runtimes all busy: busy, as on one node");
        elsewhere.any = false;
        assertEquals(InboundRouter.AGENT_BUSY, route(node), "no other node's runtime: busy, as on one node");
        assertEquals(3, elsewhere.forwarded.size(), "neither was forwarded");
        own.room = Integer.MAX_VALUE;
        node.detach(own);
        elsewhere.any = true;
        assertEquals(InboundRouter.AGENT_BUSY, route(node), "only other nodes' runtimes, all busy");
        elsewhere.any = false;
        assertEquals(InboundRouter.NO_AGENT, route(node), "no runtime anywhere");
    }

    @Test
    void shouldAnswerNoAgentWhenTheLastRuntimeLeftBeforeTheMessage() throws Exception
    {
        final RecordingChannel runtime = new RecordingChannel();
        router.attach(runtime);
        router.detach(runtime);

        assertEquals(InboundRouter.NO_AGENT, route());
        assertEquals("no_agent", InboundRouter.errorCode(InboundRouter.NO_AGENT));
        assertTrue(runtime.frames.isEmpty());
    }

    @Test
    void shouldForwardTheMessagesOwnFieldsWithTheAuthenticatedSender() throws Exception
    {
        final RecordingChannel runtime = new RecordingChannel();
        router.attach(runtime);

        assertEquals(InboundRouter.DELIVERED, route());
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
        final RecordingChannel stalled = new RecordingChannel();
        final RecordingChannel reading = new RecordingChannel();
        stalled.room = 0;
        router.attach(stalled);
        router.attach(reading);
        for (int i = 0; i < 4; i++)
        {
            assertEquals(InboundRouter.DELIVERED, route());
        }
        assertEquals(4, reading.frames.size(), "every message went to the runtime that reads");
        reading.room = 0;
        assertEquals(InboundRouter.AGENT_BUSY, route());
        assertEquals("agent_busy", InboundRouter.errorCode(InboundRouter.AGENT_BUSY));
    }

    @Test
    void shouldPreferTheEmbeddedHandlerAndReportItsFailureAsAgentError() throws Exception
    {
        final RecordingChannel runtime = new RecordingChannel();
        router.attach(runtime);
        final List<String> seen = new CopyOnWriteArrayList<>();
        router.onInbound("user_message", (user, type, buffer, offset, length) ->
            seen.add(user + ":" + buffer.getStringWithoutLengthUtf8(offset, length)));

        assertEquals(InboundRouter.DELIVERED, route());
        assertEquals(List.of("ann:" + TEXT), seen, "the embedded handler gets the message as sent");
        assertTrue(runtime.frames.isEmpty(), "producer sockets do not get what the embedded runtime took");

        router.onInbound("user_message", (user, type, buffer, offset, length) ->
        {
            throw new IllegalStateException("runtime bug");
        });
        assertEquals(InboundRouter.AGENT_ERROR, route());
        assertEquals("agent_error", InboundRouter.errorCode(InboundRouter.AGENT_ERROR));
    }
}
