package dev.agentwire.server.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A producer socket as the router and the presence feed see it, for tests: it records every frame it takes, and its
 * backlog takes {@link #room} frames more (none once that is 0, until a test gives it more).
 */
final class RecordingChannel implements RuntimeChannel
{
    final List<JsonNode> frames = new CopyOnWriteArrayList<>();
    volatile int room;

    /** A runtime that reads: its backlog takes every frame. */
    RecordingChannel()
    {
        this(Integer.MAX_VALUE);
    }

    /** @param room frames its backlog takes before it is full. */
    RecordingChannel(final int room)
    {
        this.room = room;
    }

    @Override
    public boolean send(final byte[] frame)
    {
        if (room == 0)
        {
            return false;
        }
        if (room != Integer.MAX_VALUE)
        {
            room--;
        }
        try
        {
            frames.add(Json.MAPPER.readTree(frame));
        }
        catch (final IOException ex)
        {
            throw new AssertionError(ex);
        }
        return true;
    }

    @Override
    public boolean sendHandedBack(final byte[] frame)
    {
        return send(frame);
    }

    @Override
    public boolean sendPresence(final byte[] frame)
    {
        return send(frame);
    }

    @Override
    public boolean hasRoom()
    {
        return room > 0;
    }

    @Override
    public String remote()
    {
        return "test";
    }

    /** @return each user's last told presence state. */
    Map<String, String> told()
    {
        final Map<String, String> last = new TreeMap<>();
        for (final JsonNode frame : frames)
        {
            if (!"presence".equals(frame.get("type").asText()))
            {
                throw new AssertionError("not a presence frame: " + frame);
            }
            last.put(frame.get("user").asText(), frame.get("state").asText());
        }
        return last;
    }
}
