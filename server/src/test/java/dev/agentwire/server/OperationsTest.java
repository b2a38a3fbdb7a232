package dev.agentwire.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Operations: Prometheus metrics, demo-only endpoints, configuration precedence.
 */
@Timeout(60)
class OperationsTest
{
    @TempDir
    Path dir;
    private ServerFixture fixture;

    @AfterEach
    void tearDown()
    {
        if (fixture != null)
        {
            fixture.close();
        }
    }

    private HttpResponse<String> get(final String path) throws Exception
    {
        return WsClient.HTTP.send(HttpRequest.newBuilder(fixture.http(path)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldPaceZgcToAOneGibibyteSoftMaxHeapWhenServingAsBinAgentwireStartsIt() throws Exception
    {
        // As bin/agentwire starts it: bin/jvm.options (ZGC, no max heap). Its max heap is a quarter of the machine's
        // memory.
        final Path log = dir.resolve("zgc.log");
        try (ServerProcess server = ServerProcess.start(0, log, Map.of(), "0-1"))
        {
            final long ram = ((com.sun.management.OperatingSystemMXBean)java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize();
            final long softMax = Math.round(Double.parseDouble(metricLine(
                WsClient.HTTP.send(HttpRequest.newBuilder(server.http("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body(), "agentwire_heap_soft_max_bytes")));
            assertTrue(softMax > 0 && softMax <= dev.agentwire.server.ops.HeapPolicy.DEFAULT_SOFT_MAX_BYTES,
                "soft max " + softMax);
            if (ram / 4 > 2L * dev.agentwire.server.ops.HeapPolicy.DEFAULT_SOFT_MAX_BYTES)
            {
                assertEquals(dev.agentwire.server.ops.HeapPolicy.DEFAULT_SOFT_MAX_BYTES, softMax);
            }
            assertTrue(Files.readString(log).contains("heap: ZGC soft max set: softMaxMiB="),
                "the start is logged");
        }
    }

    private static String metricLine(final String text, final String name)
    {
        for (final String line : text.split("\n"))
        {
            if (line.startsWith(name + " "))
            {
                return line.substring(name.length() + 1).trim();
            }
        }
        throw new AssertionError("no metric " + name);
    }

    @Test
    void shouldExportProportionalAndCommittedMemory()
    {
        fixture = new ServerFixture(dir, b -> { });
        assertTrue(fixture.metric("agentwire_process_pss_bytes") > 0, "PSS");
        assertTrue(fixture.metric("agentwire_heap_committed_bytes") > 0, "committed heap");
        assertTrue(fixture.metric("agentwire_process_rss_bytes") >= fixture.metric("agentwire_process_pss_bytes") / 2,
            "RSS");
    }

    @Test
    void shouldExposePrometheusMetricsThatMoveWithTraffic() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { });
        final WsClient user = fixture.connect("metered");
        user.next(5_000);
        fixture.publish(ServerFixture.runBatch("metered", "m1"));
        user.collect(WsClient::isEvent, 5, 5_000);
        fixture.publish("{\"user\":\"metered\",\"type\":\"agent_thinking\",\"run_id\":\"never\",\"data\":{\"text\":\"x\"}}");
        WsClient.refusedStatus(fixture.ws(null), "garbage", null);

        final HttpResponse<String> metrics = get("/metrics");
        assertEquals(200, metrics.statusCode());
        final String text = metrics.body();
        for (final String line : new String[]{
            "agentwire_connections 1.0",
            "agentwire_connections_opened_total 1.0",
            "agentwire_events_published_total 5.0",
            "agentwire_events_delivered_total 5.0",
            "agentwire_events_refused_total{reason=\"run_not_started\"} 1.0",
            "agentwire_auth_failures_total{reason=\"malformed\"} 1.0",
            "agentwire_delivery_latency_seconds_count 5",
            "agentwire_ring_size 65536.0"})
        {
            assertTrue(text.contains(line), "missing: " + line + "\n" + text);
        }
        for (final String name : text.split("\n"))
        {
            if (!name.startsWith("#") && !name.isBlank())
            {
                assertTrue(name.startsWith("agentwire_"), name);
            }
        }
    }

    @Test
    void shouldOfferDemoEndpointsOnlyInDemoMode() throws Exception
    {
        fixture = new ServerFixture(dir, b -> { });
        assertEquals(404, get("/").statusCode());
        assertEquals(404, get("/demo/token?user=a").statusCode());
        assertEquals(200, get("/clients/agentwire.js").statusCode(), "the JS client is served in every mode");
    }

    @Test
    void shouldTakeSettingsFromFlagThenEnvironmentThenFileThenDefault() throws Exception
    {
        final Path file = dir.resolve("agentwire.properties");
        Files.writeString(file, "AGENTWIRE_PORT=7001\nAGENTWIRE_MAX_MESSAGE_BYTES=2048\nAGENTWIRE_INBOUND_RATE=7\n" +
            "AGENTWIRE_JWT_SECRET=" + Tokens.SECRET + "\nAGENTWIRE_PRODUCER_KEY=" + Tokens.PRODUCER_KEY + "\n");
        final Main.Serve serve = parse(Map.of("AGENTWIRE_MAX_MESSAGE_BYTES", "4096", "AGENTWIRE_CONFIG", file.toString()),
            "serve", "--port", "7002");
        final ServerConfig config = serve.toConfig();
        assertEquals(7002, config.port(), "flag wins");
        assertEquals(4096, config.maxMessageBytes(), "environment over file");
        assertEquals(7, config.inboundRatePerSec(), "file over default");
        assertEquals(ServerSettings.INBOUND_BURST.defaultValue, config.inboundBurst(), "default");
    }

    @Test
    void shouldRunTheDemoWithTheSecretsGivenInTheEnvironment() throws Exception
    {
        // The demo generated fresh secrets unless they came as flags: AGENTWIRE_PRODUCER_KEY in the environment (as
        // a script that publishes to the demo sets it) was ignored, and every publish got 401.
        final Path file = dir.resolve("empty.properties");
        Files.writeString(file, "");
        final ServerConfig given = parse(Map.of("AGENTWIRE_PRODUCER_KEY", Tokens.PRODUCER_KEY,
            "AGENTWIRE_CONFIG", file.toString()), "demo").toConfig();
        assertEquals(Tokens.PRODUCER_KEY, given.producerKey());
        final ServerConfig generated = parse(Map.of("AGENTWIRE_CONFIG", file.toString()), "demo").toConfig();
        assertTrue(generated.producerKey().length() >= 32, "a generated key when none is given");
        assertTrue(generated.jwtSecret().length() >= 32, "a generated secret when none is given");
    }

    @Test
    void shouldRefuseAnUnknownKeyInTheConfigFile() throws Exception
    {
        final Path file = dir.resolve("bad.properties");
        Files.writeString(file, "AGENTWIRE_PORTT=1\n");
        assertEquals(2, Main.run(Map.of(), "serve", "--config", file.toString()));
    }

    private static Main.Serve parse(final Map<String, String> env, final String... args)
    {
        final Main.Serve[] captured = new Main.Serve[1];
        final java.util.Properties file = new java.util.Properties();
        try (var reader = Files.newBufferedReader(Path.of(env.get("AGENTWIRE_CONFIG"))))
        {
            file.load(reader);
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        final picocli.CommandLine commandLine = Main.commandLine();
        commandLine.setDefaultValueProvider(new SettingsDefaults(env, file));
        final picocli.CommandLine.ParseResult result = commandLine.parseArgs(args);
        captured[0] = (Main.Serve)result.subcommand().commandSpec().userObject();
        return captured[0];
    }
}
