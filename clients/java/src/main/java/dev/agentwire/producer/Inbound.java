package dev.agentwire.producer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A message a user sent, routed to this runtime: {@code user_message} (a prompt; an AG-UI front end's whole
 * {@code RunAgentInput} in {@link #input()}), {@code cancel} (stop {@link #runId()}), or {@code presence}.
 */
public final class Inbound
{
    private final JsonNode frame;

    Inbound(final JsonNode frame)
    {
        this.frame = frame;
    }

    public String type()
    {
        return frame.path("type").asText();
    }

    /** @return the authenticated user who sent it. */
    public String user()
    {
        return frame.path("user").asText();
    }

    public String threadId()
    {
        return frame.path("thread_id").asText(null);
    }

    public String runId()
    {
        return frame.path("run_id").asText(null);
    }

    /** @return the message's data (an object; empty when none). */
    public JsonNode data()
    {
        return frame.path("data");
    }

    /** @return the prompt's text, or null. */
    public String text()
    {
        return frame.path("data").path("text").asText(null);
    }

    /** @return an AG-UI front end's {@code RunAgentInput}, or a missing node. */
    public JsonNode input()
    {
        return frame.path("data").path("input");
    }

    /** @return the answers to the thread's AG-UI interrupts ({@code resume[]}), or a missing node. */
    public JsonNode resume()
    {
        return input().path("resume");
    }

    /**
     * @return true when this message went to another runtime first, whose connection ended before it confirmed
     *         taking it: that runtime may have acted on it. A run of its {@link #runId()} may already exist; without a
     *         run id, the user may be answered twice should this runtime answer too.
     */
    public boolean redelivered()
    {
        return frame.path("redelivered").asBoolean(false);
    }

    /** @return for presence, {@code online} or {@code offline}; else null. */
    public String presence()
    {
        return frame.path("state").asText(null);
    }

    @Override
    public String toString()
    {
        return frame.toString();
    }
}
