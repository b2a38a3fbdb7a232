package dev.agentwire.server.ingest;

import dev.agentwire.core.EventDraft;
import dev.agentwire.core.Outcome;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The data fields the five agent types require: checked by kind and length, read only where they are used. */
class EventDataTest
{
    private final IngestParser parser = new IngestParser(64 * 1024);

    @Test
    void shouldCheckAStringFieldWhoseValueIsNotRead() throws Exception
    {
        assertEquals("events[0].data.text must not be empty", refusal("agent_thinking", "\"text\":\"\""));
        assertEquals("events[0].data.text must be a string", refusal("agent_thinking", "\"text\":7"));
        assertEquals("events[0].data.text is required", refusal("agent_thinking", "\"note\":\"x\""));
        assertEquals("events[0].data.agent is longer than 256 characters",
            refusal("agent_started", "\"agent\":\"" + "a".repeat(257) + "\""));
        assertEquals("events[0].data.tool must not be empty",
            refusal("tool_executing", "\"tool_call_id\":\"c1\",\"tool\":\"\",\"args\":{}"));

        // data.text has no bound of its own (the body's): a long text is an event like any other.
        assertEquals(1, parse("agent_thinking", "\"text\":\"" + "t".repeat(5_000) + "\"").size());
    }

    @Test
    void shouldReadTheFieldsTheRunRulesUse() throws Exception
    {
        final EventDraft executing = parse("tool_executing",
            "\"tool_call_id\":\"c1\",\"tool\":\"forecast\",\"args\":{}").get(0);
        final EventDraft completed = parse("agent_completed", "\"outcome\":\"error\",\"error\":\"boom\"").get(0);

        assertEquals("c1", executing.toolCallId());
        assertEquals(Outcome.ERROR, completed.outcome());
    }

    private List<EventDraft> parse(final String type, final String data) throws Exception
    {
        final byte[] body = ("[{\"user\":\"alice\",\"type\":\"" + type + "\",\"run_id\":\"r1\",\"data\":{" + data +
            "}}]").getBytes(StandardCharsets.UTF_8);
        return parser.parseBody(body, body.length);
    }

    private String refusal(final String type, final String data)
    {
        return assertThrows(IngestParser.Invalid.class, () -> parse(type, data)).getMessage();
    }
}
