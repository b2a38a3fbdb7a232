package dev.agentwire.server;

import dev.agentwire.server.websocket.CloseCodes;
import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Error handling and cleanup: a client that stops reading is cut without slowing anyone; shutdown is graceful;
 * connections leave nothing behind.
 */
class SlowConsumerAndShutdownTest
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

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void shouldCutAClientThatStopsReadingWhileOthersReceiveEverything() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.producerRatePerSec(1_000_000).producerBurst(1_000_000)
                .sendWindowBytes(64 * 1024),
            AgentWireConfig.builder().sliceCount(2).historyMaxEvents(32));
        final WsClient stuck = fixture.connect("stuck", "feed");
        final WsClient reader = fixture.connect("reader", "feed");
        stuck.next(5_000);
        reader.next(5_000);
        stuck.stopReading();
        fixture.server.engine().join("stuck", "feed");
        fixture.server.engine().join("reader", "feed");
        stuck.nextOfType("joined", 5_000);
        reader.nextOfType("joined", 5_000);

        final String blob = "z".repeat(32 * 1024);
        final int events = 400;
        for (int i = 0; i < events; i += 10)
        {
            final StringBuilder batch = new StringBuilder("[");
            for (int j = 0; j < 10; j++)
            {
                batch.append(j == 0 ? "" : ",").append("{\"room\":\"feed\",\"type\":\"app.chunk\",\"data\":{\"n\":")
                    .append(i + j).append(",\"blob\":\"").append(blob).append("\"}}");
            }
            assertEquals(202, fixture.publish(batch.append("]").toString()).statusCode());
            // The reader keeps up (it is a healthy client, however slow the machine): the next batch goes once it
            // has this one, so only the client that stopped reading can fill its queue.
            final List<JsonNode> got = reader.collect(WsClient::isEvent, 10, 30_000);
            for (int j = 0; j < 10; j++)
            {
                assertEquals(i + j, got.get(j).get("data").get("n").asInt());
            }
        }
        RecordingAwait.until(() -> fixture.server.metrics().slowConsumerCloses() == 1, 10_000, "stuck cut");
        // The close is counted by code a moment after the cut is: wait for the count asserted.
        RecordingAwait.until(() -> fixture.server.metrics().closedWith(CloseCodes.SLOW_CONSUMER) > 0,
            10_000, "close counted under 4004");
        assertEquals(1L, fixture.server.metrics().closedWith(CloseCodes.SLOW_CONSUMER));
        RecordingAwait.until(() -> fixture.server.connectionCount() == 1, 10_000, "stuck connection freed");
        assertTrue(reader.isOpen());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldDeliverEverythingAcceptedThenCloseWith1001OnShutdown() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.producerRatePerSec(1_000_000).producerBurst(1_000_000));
        final WsClient user = fixture.connect("leaving");
        user.next(5_000);
        for (int run = 0; run < 20; run++)
        {
            assertEquals(202, fixture.publish(ServerFixture.runBatch("leaving", "run-" + run)).statusCode());
        }
        fixture.server.close();

        final List<JsonNode> got = user.collect(WsClient::isEvent, 100, 10_000);
        assertEquals(100, got.get(99).get("seq").asLong());
        assertEquals(1001, user.awaitClose(10_000));
        assertEquals(0, fixture.server.connectionCount());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldFreeEverythingAfterAThousandConnectCycles() throws Exception
    {
        fixture = new ServerFixture(dir, b -> b.maxConnectionsPerUser(4));
        for (int i = 0; i < 1_000; i++)
        {
            final String user = "cycler-" + (i % 50);
            final WsClient client = WsClient.connect(fixture.ws(null), Tokens.hs256(user, 60_000, "r"));
            assertEquals("welcome", client.next(5_000).get("type").asText());
            if (i % 10 == 0)
            {
                client.send("{\"type\":\"join\",\"room\":\"r\"}");
                client.nextOfType("joined", 5_000);
            }
            client.close();
        }
        RecordingAwait.until(() -> fixture.server.connectionCount() == 0, 10_000, "registry empty");
        RecordingAwait.until(() -> fixture.server.engine().stats().subscriptions == 0, 10_000, "subscriptions gone");
        // A connection leaves the open set before its per-user and per-address counts are released.
        RecordingAwait.until(() -> fixture.server.registryKeys() == 0, 10_000, "no per-user or per-address counts left");
        assertEquals(0, fixture.server.registryKeys(), "no per-user or per-address counts left");
        assertEquals(1_000, fixture.server.metrics().connectionsOpened());
        assertEquals(1_000, fixture.server.metrics().connectionsClosed());
    }
}
