package dev.agentwire.example;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedExampleTest
{
    @Test
    @Timeout(30)
    void shouldPrintEachUsersOwnRunInOrder() throws Exception
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        EmbeddedExample.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        final List<String> lines = Arrays.asList(bytes.toString(StandardCharsets.UTF_8).split("\n"));

        for (final String user : List.of("alice", "bob"))
        {
            final List<String> events = lines.stream().filter(l -> l.startsWith(user + " #"))
                .collect(Collectors.toList());
            assertEquals(5, events.size(), user + ": " + events);
            assertTrue(events.get(0).startsWith(user + " #1 agent_started run=run-" + user + "-1"));
            assertTrue(events.get(4).startsWith(user + " #5 agent_completed run=run-" + user + "-1"));
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("AgentWireStats{")));
    }
}
