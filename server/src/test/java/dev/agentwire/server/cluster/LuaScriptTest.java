package dev.agentwire.server.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What Redis is sent: the scripts that read a stream's head carry the one copy of its code, spliced in. */
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
        assertTrue(LuaScript.spliced("publish.lua").startsWith("#!lua flags=allow-cross-slot-keys\n"),
            "the shebang stays the first line");
        assertFalse(LuaScript.spliced("heartbeat.lua").contains("headOf"), "a script without the line is as written");
    }
}
