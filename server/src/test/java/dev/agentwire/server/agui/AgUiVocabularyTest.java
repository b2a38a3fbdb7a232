package dev.agentwire.server.agui;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AG-UI's open/close pairs are stated twice, once per language: here for the server and in the browser client,
 * which re-opens parts when it resumes. They must say the same.
 */
class AgUiVocabularyTest
{
    private static final Path AGENT_TS = Path.of("..", "clients", "js", "src", "agent.ts");

    @Test
    void shouldStateTheSamePairsAsTheTypeScriptClient() throws IOException
    {
        final String source = Files.readString(AGENT_TS);
        assertEquals(AgUiVocabulary.OPENS, record(source, "OPENS"), "OPENS in " + AGENT_TS);
        assertEquals(AgUiVocabulary.CLOSES, record(source, "CLOSES"), "CLOSES in " + AGENT_TS);
    }

    @Test
    void shouldPairEveryCloseAndContentWithAnOpen()
    {
        for (final String start : AgUiVocabulary.CLOSES.values())
        {
            assertTrue(AgUiVocabulary.OPENS.containsKey(start), start);
        }
        for (final String start : AgUiVocabulary.CONTINUES.values())
        {
            assertTrue(AgUiVocabulary.OPENS.containsKey(start), start);
        }
        assertEquals(AgUiVocabulary.OPENS.keySet(), new java.util.LinkedHashSet<>(AgUiVocabulary.CLOSES.values()));
    }

    @Test
    void shouldNameKindsAndStreamTypesBothWays()
    {
        assertEquals("tool_call", AgUiVocabulary.kind("TOOL_CALL_START"));
        assertEquals("step", AgUiVocabulary.kind("STEP_STARTED"));
        assertEquals("reasoning_message", AgUiVocabulary.kind("REASONING_MESSAGE_START"));
        assertEquals("ag-ui.text_message_start", AgUiVocabulary.streamType("TEXT_MESSAGE_START"));
        assertEquals("TEXT_MESSAGE_START", AgUiVocabulary.agUiType("ag-ui.text_message_start"));
    }

    /** {@code const NAME: Record<string, string> = { A: "b", … };} → its entries, in order. */
    private static Map<String, String> record(final String source, final String name)
    {
        final Matcher declaration = Pattern.compile("const " + name + ": Record<string, string> = \\{([^}]*)}")
            .matcher(source);
        assertTrue(declaration.find(), "no record " + name + " in " + AGENT_TS);
        final Map<String, String> entries = new LinkedHashMap<>();
        final Matcher entry = Pattern.compile("(\\w+):\\s*\"(\\w+)\"").matcher(declaration.group(1));
        while (entry.find())
        {
            entries.put(entry.group(1), entry.group(2));
        }
        return entries;
    }
}
