package dev.agentwire.server.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Redis is sent: the scripts that read a stream's head carry the one copy of its code, spliced in, and a
 * library is named by its text.
 */
class LuaScriptTest
{
    @Test
    void shouldSpliceTheStreamHeadCodeIntoEveryScriptThatReadsAHead()
    {
        for (final String script : List.of("publish.lua", "fetch.lua", "head.lua", "reepoch.lua"))
        {
            final String text = LuaScript.spliced(script);
            assertFalse(text.startsWith("--!include") || text.contains("\n--!include"), script + ": no include left");
            assertEquals(1, text.split("local function headOf\\(", -1).length - 1, script + " has headOf once");
        }
        assertTrue(LuaScript.spliced("publish.lua").startsWith("#!lua name=agentwire_publish_%DIGEST%\n"),
            "the shebang stays the first line");
        assertFalse(LuaScript.spliced("heartbeat.lua").contains("headOf"), "a script without the line is as written");
    }

    @Test
    void shouldNameALibrarysFunctionByTheDigestOfItsText()
    {
        final LuaScript publish = new LuaScript("publish.lua", error -> { });
        final String name = publish.functionName();
        assertTrue(name.matches("agentwire_publish_[0-9a-f]{16}"), name);
        assertTrue(publish.source().startsWith("#!lua name=" + name + "\n"), "the library is named as its function");
        assertTrue(publish.source().contains("function_name = '" + name + "'"), "the function registered is called");
        assertFalse(publish.source().contains("%DIGEST%"), "every mark is written in");
        assertEquals(name, new LuaScript("publish.lua", error -> { }).functionName(), "the same text, the same name");
        assertNull(new LuaScript("fetch.lua", error -> { }).functionName(), "a script is run by EVALSHA");
    }
}
