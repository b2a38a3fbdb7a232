package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Broadcasting, multi-room and binary messages over real sockets.
 */
@Timeout(60)
class RoomsBroadcastBinaryTest
{
    @TempDir
    Path dir;
    private ServerFixture fixture;

    @BeforeEach
    void setUp()
    {
        fixture = new ServerFixture(dir, b -> { });
    }

    @AfterEach
    void tearDown()
    {
        fixture.close();
    }

    @Test
    void shouldJoinRoomsAllowedByTheTokenAndFanOutToEachMemberOnce() throws Exception
    {
        final WsClient ann = fixture.connect("ann", "team", "ops");
        final WsClient annPhone = fixture.connect("ann", "team", "ops");
        final WsClient ben = fixture.connect("ben", "team");
        final WsClient cid = fixture.connect("cid");
        for (final WsClient c : List.of(ann, annPhone, ben, cid))
        {
            c.next(5_000);
        }
        ann.send("{\"type\":\"join\",\"room\":\"team\"}");
        ann.send("{\"type\":\"join\",\"room\":\"ops\"}");
        ben.send("{\"type\":\"join\",\"room\":\"team\"}");
        ben.send("{\"type\":\"join\",\"room\":\"ops\"}");
        cid.send("{\"type\":\"join\",\"room\":\"team\"}");
        assertEquals("joined", ann.nextOfType("joined", 5_000).get("type").asText());
        assertEquals("ops", ann.nextOfType("joined", 5_000).get("room").asText());
        assertEquals("team", annPhone.nextOfType("joined", 5_000).get("room").asText(), "membership is the user's");
        // The refusal is answered at once, the join after its trip through the spine: either order.
        final List<JsonNode> benAnswers = ben.collect(m -> !WsClient.isEvent(m), 2, 5_000);
        assertTrue(benAnswers.stream().anyMatch(m -> "joined".equals(m.get("type").asText()) &&
            "team".equals(m.get("room").asText())), benAnswers.toString());
        assertTrue(benAnswers.stream().anyMatch(m -> "error".equals(m.get("type").asText()) &&
            "forbidden_room".equals(m.get("code").asText())), benAnswers.toString());
        assertEquals("forbidden_room", cid.nextOfType("error", 5_000).get("code").asText());

        final HttpResponse<String> response = fixture.publish(
            "[{\"room\":\"team\",\"type\":\"app.note\",\"data\":{\"to\":\"team\"}}," +
            "{\"room\":\"ops\",\"type\":\"app.note\",\"data\":{\"to\":\"ops\"}}]");
        assertEquals(202, response.statusCode(), response.body());
        assertEquals(3, ServerFixture.json(response).get("results").get(0).get("seqs").size() +
            ServerFixture.json(response).get("results").get(1).get("seqs").size());

        final List<JsonNode> annEvents = ann.collect(WsClient::isEvent, 2, 5_000);
        assertEquals("team", annEvents.get(0).get("room").asText());
        assertEquals("ops", annEvents.get(1).get("room").asText());
        assertEquals(List.of(1L, 2L), annEvents.stream().map(e -> e.get("seq").asLong()).toList());
        assertEquals(2, annPhone.collect(WsClient::isEvent, 2, 5_000).size());
        final List<JsonNode> benEvents = ben.collect(WsClient::isEvent, 1, 5_000);
        assertEquals("team", benEvents.get(0).get("room").asText());
        assertEquals(1, benEvents.get(0).get("seq").asLong());
        Thread.sleep(200);
        assertTrue(ben.messages.isEmpty() && cid.messages.isEmpty(), "no event outside the rooms");

        ann.send("{\"type\":\"leave\",\"room\":\"team\"}");
        assertEquals("team", ann.nextOfType("left", 5_000).get("room").asText());
        fixture.publish("{\"room\":\"team\",\"type\":\"app.note\",\"data\":{}}");
        assertEquals(2, ben.collect(WsClient::isEvent, 1, 5_000).get(0).get("seq").asLong());
        Thread.sleep(200);
        assertTrue(ann.messages.stream().noneMatch(WsClient::isEvent), "ann left the room");
    }

    @Test
    void shouldShowARoomOnlyToConnectionsWhoseTokenListsIt() throws Exception
    {
        // Eve joins "secret" while her token allows it, then reconnects with a token that no longer lists it: her
        // membership stays (it is the user's), but that connection is shown nothing of the room.
        final WsClient allowed = fixture.connect("eve", "secret");
        allowed.next(5_000);
        allowed.send("{\"type\":\"join\",\"room\":\"secret\"}");
        assertEquals("secret", allowed.nextOfType("joined", 5_000).get("room").asText());
        final WsClient revoked = fixture.connect("eve");
        revoked.next(5_000);

        assertEquals(202, fixture.publish("{\"room\":\"secret\",\"type\":\"app.note\",\"data\":{\"x\":1}}")
            .statusCode());
        assertEquals(202, fixture.publish("{\"user\":\"eve\",\"type\":\"app.direct\",\"data\":{}}").statusCode());

        final List<JsonNode> seen = allowed.collect(WsClient::isEvent, 2, 5_000);
        assertEquals(List.of("app.note", "app.direct"), seen.stream().map(e -> e.get("type").asText()).toList());
        // The revoked connection gets the direct event (seq 2) and never the room's (seq 1): passed over, not lost.
        final List<JsonNode> shown = revoked.collect(WsClient::isEvent, 1, 5_000);
        assertEquals("app.direct", shown.get(0).get("type").asText());
        assertEquals(2, shown.get(0).get("seq").asLong());
        assertTrue(revoked.texts.stream().noneMatch(t -> t.contains("secret")), revoked.texts.toString());

        // Resuming from before the room event does not show it either.
        revoked.send("{\"type\":\"resume\",\"epoch\":" + shown.get(0).get("epoch").asLong() + ",\"after\":0}");
        final JsonNode replayed = revoked.collect(WsClient::isEvent, 1, 5_000).get(0);
        assertEquals("app.direct", replayed.get("type").asText());
        assertTrue(revoked.texts.stream().noneMatch(t -> t.contains("secret")), revoked.texts.toString());
    }

    @Test
    void shouldManageMembershipFromTheProducerApi() throws Exception
    {
        // The producer grants the membership; the user's token lists the room, so the connection may see it.
        final WsClient dee = fixture.connect("dee", "launch");
        dee.next(5_000);
        assertEquals(204, fixture.send("PUT", "/v1/rooms/launch/members/dee").statusCode());
        assertEquals("launch", dee.nextOfType("joined", 5_000).get("room").asText());
        fixture.publish("{\"room\":\"launch\",\"type\":\"app.note\",\"data\":{\"x\":1}}");
        assertEquals("launch", dee.collect(WsClient::isEvent, 1, 5_000).get(0).get("room").asText());
        assertEquals(204, fixture.send("DELETE", "/v1/rooms/launch/members/dee").statusCode());
        assertEquals("launch", dee.nextOfType("left", 5_000).get("room").asText());
    }

    @Test
    void shouldBroadcastToEveryConnectedUser() throws Exception
    {
        final WsClient a = fixture.connect("bc-a");
        final WsClient b = fixture.connect("bc-b");
        a.next(5_000);
        b.next(5_000);
        final HttpResponse<String> response =
            fixture.publish("{\"broadcast\":true,\"type\":\"app.maintenance\",\"data\":{\"in\":\"5m\"}}");
        assertEquals(202, response.statusCode());
        for (final WsClient c : List.of(a, b))
        {
            final JsonNode e = c.collect(WsClient::isEvent, 1, 5_000).get(0);
            assertTrue(e.get("broadcast").asBoolean());
            assertEquals("5m", e.get("data").get("in").asText());
        }
    }

    @Test
    void shouldDeliverBinaryEventsAsBinaryFramesWithTheDocumentedHeader() throws Exception
    {
        final WsClient eve = fixture.connect("eve");
        final long epoch = eve.next(5_000).get("epoch").asLong();
        final byte[] payload = new byte[3_000];
        for (int i = 0; i < payload.length; i++)
        {
            payload[i] = (byte)(i * 31);
        }
        final HttpResponse<String> response = fixture.postBytes(
            "/v1/events/binary?user=eve&type=app.audio&run_id=r-bin&thread_id=t1&id=blob-1", payload);
        assertEquals(202, response.statusCode(), response.body());

        final ByteBuffer frame = eve.binaries.poll(5, TimeUnit.SECONDS);
        assertTrue(frame != null, "a binary frame");
        assertEquals(0x4157, frame.getShort() & 0xFFFF);
        assertEquals(1, frame.get());
        assertEquals(0, frame.get());
        final int headerLength = frame.getShort() & 0xFFFF;
        assertEquals(1, frame.getLong());
        assertEquals(epoch, frame.getLong());
        assertTrue(frame.getLong() > 0);
        assertEquals("app.audio", string(frame));
        assertEquals("r-bin", string(frame));
        assertEquals("t1", string(frame));
        assertEquals("blob-1", string(frame));
        assertEquals("", string(frame));
        assertEquals(headerLength, frame.position());
        final byte[] got = new byte[frame.remaining()];
        frame.get(got);
        assertArrayEquals(payload, got);

        assertEquals(400, fixture.postBytes("/v1/events/binary?user=eve&type=agent_thinking&run_id=r", payload)
            .statusCode(), "agent event types carry JSON");
        assertEquals(400, fixture.postBytes("/v1/events/binary?type=app.audio", payload).statusCode(), "no target");
    }

    private static String string(final ByteBuffer frame)
    {
        final int length = frame.getShort() & 0xFFFF;
        final byte[] bytes = new byte[length];
        frame.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
