package dev.agentwire.server;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest
{
    @Test
    void shouldRefuseToServeWithoutASecretNamingTheSetting()
    {
        final PrintStream err = System.err;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try
        {
            final int code = Main.run("serve", "--port", "0", "--jwt-secret", "", "--producer-key", "k".repeat(20));
            assertEquals(2, code);
        }
        finally
        {
            System.setErr(err);
        }
        final String message = captured.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains("jwtSecret"), message);
        assertTrue(message.contains("AGENTWIRE_JWT_SECRET"), message);
    }

    @Test
    void shouldNeverPrintSecretsInTheConfig()
    {
        final ServerConfig config = ServerConfig.builder().jwtSecret("s".repeat(40)).producerKey("p".repeat(20))
            .build();
        assertFalse(config.toString().contains("sssss"));
        assertFalse(config.toString().contains("ppppp"));
    }

    @Test
    void shouldValidateSettingsOnce()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> ServerConfig.builder().jwtSecret("s".repeat(40)).producerKey("p".repeat(20)).port(70_000).build());
        assertEquals("invalid config: port=70000 must be 0..65535", ex.getMessage());
        assertThrows(IllegalArgumentException.class,
            () -> ServerConfig.builder().jwtSecret("short").producerKey("p".repeat(20)).build());
        assertThrows(IllegalArgumentException.class,
            () -> ServerConfig.builder().jwtSecret("s".repeat(40)).producerKey("p".repeat(20))
                .heartbeatIntervalMs(1_000).heartbeatTimeoutMs(500).build());
    }

    @Test
    void shouldPrintCompleteHelp()
    {
        final PrintStream out = System.out;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try
        {
            assertEquals(0, Main.run("serve", "--help"));
        }
        finally
        {
            System.setOut(out);
        }
        final String help = captured.toString(StandardCharsets.UTF_8);
        for (final String flag : new String[]{"--port", "--host", "--jwt-secret", "--jwks-file", "--producer-key",
            "--allowed-origins", "--max-message-bytes", "--heartbeat-interval-ms", "AGENTWIRE_* environment variable",
            "--redis-url", "--history-max-events"})
        {
            assertTrue(help.contains(flag), flag);
        }
    }

    @Test
    void shouldPrintShortHelpWithTheRequiredSettingsFirst()
    {
        final String help = captureOut(() -> assertEquals(0, Main.run("serve", "--help")));
        assertTrue(help.startsWith("Usage: agentwire serve [OPTIONS]"), "a one-line synopsis: " + help.lines().findFirst());
        assertTrue(help.indexOf("--jwt-secret") < help.indexOf("--host"), "the required settings come first");
        assertTrue(help.contains("REQUIRED. HS256 secret") && help.contains("REQUIRED. key agent runtimes"), help);
        assertTrue(!help.contains("Default: \n") && !help.contains("Default: )"), "no empty default");
        // It was 187 lines for 40 settings (4.7 a setting), one setting's environment variable and default each on
        // lines of their own.
        assertTrue(help.lines().count() < 3.5 * ServerSettings.SETTINGS.size(), "short: " + help.lines().count() +
            " lines for " + ServerSettings.SETTINGS.size() + " settings");
        int at = 0;
        for (final String section : new String[]{"Required (", "Listen:", "Auth:", "Limits:", "Connections:",
            "Cluster (Redis):", "Engine and history:"})
        {
            final int found = help.indexOf(section, at);
            assertTrue(found > at, "grouped by concern, in order: " + section + " in " + help);
            at = found;
        }
    }

    @Test
    void shouldSuggestTheNearestFlagForATypo()
    {
        final PrintStream err = System.err;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try
        {
            assertEquals(2, Main.run("serve", "--prot", "9000"));
            assertEquals(2, Main.run("serve", "--max-mesage-bytes=10"));
            assertEquals(2, Main.run("serve", "--completely-unrelated"));
        }
        finally
        {
            System.setErr(err);
        }
        final String out = captured.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("Did you mean --port?"), out);
        assertTrue(out.contains("Did you mean --max-message-bytes?"), out);
        assertTrue(out.lines().filter(l -> l.startsWith("Did you mean")).count() == 2, "no guess for a word far " +
            "from every flag: " + out);
        assertTrue(out.contains("See 'agentwire serve --help'"), out);
    }

    @Test
    void shouldRefuseATokenThatWouldBeExpiredWhenMade()
    {
        final PrintStream err = System.err;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try
        {
            assertEquals(2, Main.run("token", "--user", "a", "--ttl-seconds", "-5", "--jwt-secret", "s".repeat(40)));
        }
        finally
        {
            System.setErr(err);
        }
        assertTrue(captured.toString(StandardCharsets.UTF_8).contains("ttlSeconds=-5 must be > 0"), captured::toString);
    }

    private static String captureOut(final Runnable action)
    {
        final PrintStream out = System.out;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try
        {
            action.run();
        }
        finally
        {
            System.setOut(out);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
