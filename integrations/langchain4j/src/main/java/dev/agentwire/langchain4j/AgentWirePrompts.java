package dev.agentwire.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentwire.core.AgentWire;
import dev.agentwire.core.InboundHandler;
import dev.agentwire.producer.AgentWireProducer;
import dev.agentwire.producer.Inbound;
import dev.langchain4j.service.TokenStream;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A user's prompt starts an AI Service call whose run goes back to that user: the inbound side. For a runtime
 * embedded in the server's process ({@link #embedded}, registered with {@code AgentWireServer.onInbound}), or one in
 * another process ({@link #producer}, given to {@code AgentWireProducer.onInbound}).
 */
public final class AgentWirePrompts
{
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final AtomicLong RUNS = new AtomicLong();

    /** Starts the AI Service for a prompt: {@code assistant.chat(prompt)}, a method returning a TokenStream. */
    @FunctionalInterface
    public interface Service
    {
        TokenStream chat(String user, String threadId, String prompt);
    }

    private AgentWirePrompts()
    {
    }

    /** @return a {@code user_message} handler that runs the service and publishes its run to the engine. */
    public static InboundHandler embedded(final AgentWire engine, final Service service)
    {
        return (userId, type, payload, offset, length) ->
        {
            final byte[] bytes = new byte[length];
            payload.getBytes(offset, bytes);
            final JsonNode message;
            try
            {
                message = MAPPER.readTree(bytes);
            }
            catch (final IOException ex)
            {
                return; // the server parsed it before routing it here: not reached
            }
            final String threadId = message.path("thread_id").asText(null);
            final String runId = runIdOf(message.path("run_id").asText(null));
            final String prompt = message.path("data").path("text").asText("");
            final EmbeddedRunSink sink = new EmbeddedRunSink(engine, userId, runId, threadId);
            start(service, userId, threadId, prompt, sink);
        };
    }

    /** @return an inbound consumer that runs the service and publishes its run through the producer client. */
    public static Consumer<Inbound> producer(final AgentWireProducer producer, final Service service)
    {
        return message ->
        {
            if (!"user_message".equals(message.type()))
            {
                return;
            }
            final String runId = runIdOf(message.runId());
            final ProducerRunSink sink = new ProducerRunSink(producer, message.user(), runId, message.threadId());
            start(service, message.user(), message.threadId(), message.text() == null ? "" : message.text(), sink);
        };
    }

    private static void start(final Service service, final String user, final String threadId, final String prompt,
        final RunSink sink)
    {
        final TokenStream stream;
        try
        {
            stream = service.chat(user, threadId, prompt);
        }
        catch (final RuntimeException ex)
        {
            sink.started();
            sink.failed(ex);
            return;
        }
        AgentWireStreams.publish(stream, sink);
    }

    private static String runIdOf(final String asked)
    {
        return asked != null && !asked.isEmpty() ? asked : "lc4j-run-" + RUNS.incrementAndGet() + "-" +
            Long.toHexString(System.nanoTime());
    }
}
