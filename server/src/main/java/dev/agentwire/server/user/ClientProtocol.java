package dev.agentwire.server.user;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.runtime.InboundRouter;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;

import java.io.IOException;

/**
 * What a user may send on its socket (docs/PROTOCOL.md, "Client → server"): {@code ping}, {@code resume},
 * {@code join}, {@code leave}, {@code user_message}, {@code cancel}. Each message is acted on or answered with an
 * {@code error} frame; malformed ones count toward the connection's bad-message bound. One per server, stateless:
 * what is per connection (the bound's count, the subscription) stays on the {@link UserConnection}. Runs on the
 * connection's I/O thread.
 */
final class ClientProtocol
{
    private final Sequencer sequencer;
    private final InboundRouter router;

    ClientProtocol(final Sequencer sequencer, final InboundRouter router)
    {
        this.sequencer = sequencer;
        this.router = router;
    }

    /** One text message from the client. */
    void onMessage(final UserConnection connection, final String text)
    {
        final JsonNode message;
        try
        {
            message = Json.MAPPER.readTree(text);
        }
        catch (final IOException ex)
        {
            connection.badMessage("not valid JSON");
            return;
        }
        if (message == null || !message.isObject() || !message.path("type").isTextual())
        {
            connection.badMessage("a message is a JSON object with a string type");
            return;
        }
        final String type = message.get("type").textValue();
        switch (type)
        {
            case "ping":
                connection.sendPong();
                break;
            case "resume":
                resume(connection, message);
                break;
            case "join":
            case "leave":
                room(connection, type, message);
                break;
            case "user_message":
                if (!message.path("thread_id").isTextual() || !message.path("data").isObject())
                {
                    connection.badMessage("user_message needs thread_id (string) and data (object)");
                    return;
                }
                toRuntime(connection, type, message, text);
                break;
            case "cancel":
                if (!message.path("run_id").isTextual())
                {
                    connection.badMessage("cancel needs run_id (string)");
                    return;
                }
                toRuntime(connection, type, message, text);
                break;
            default:
                connection.sendError("unknown_type", "unknown message type: " + truncate(type));
                break;
        }
    }

    /** A resume rewinds this socket's stream to the cursor: what follows the resumed frame supersedes. */
    private static void resume(final UserConnection connection, final JsonNode message)
    {
        final JsonNode epoch = message.get("epoch");
        final JsonNode after = message.get("after");
        // Integers only: canConvertToLong alone would take 1.5 (or 1e3) and truncate it to a cursor nobody sent.
        if (epoch == null || !epoch.isIntegralNumber() || !epoch.canConvertToLong() ||
            after == null || !after.isIntegralNumber() || !after.canConvertToLong() || after.longValue() < 0)
        {
            connection.badMessage("resume needs epoch and after (integers, after >= 0)");
            return;
        }
        switch (connection.resubscribe(epoch.longValue(), after.longValue()))
        {
            case ClientLimitPolicy.RESUME_IN_PROGRESS:
                connection.sendError("resume_in_progress",
                    "a resume is still being answered; wait for its events before resuming again");
                break;
            case ClientLimitPolicy.RESUME_RATE_LIMITED:
                connection.sendError("rate_limited", "at most " + ClientLimitPolicy.RESUMES_PER_SEC +
                    " resume per second (burst " + ClientLimitPolicy.RESUME_BURST + ")");
                break;
            default:
                break;
        }
    }

    private void room(final UserConnection connection, final String type, final JsonNode message)
    {
        final JsonNode room = message.get("room");
        if (room == null || !room.isTextual() || room.textValue().isEmpty())
        {
            connection.badMessage(type + " needs room (string)");
            return;
        }
        final String name = room.textValue();
        final boolean join = "join".equals(type);
        if (join && !connection.principal().mayJoin(name))
        {
            connection.sendError("forbidden_room", "the token does not allow joining " + truncate(name));
            return;
        }
        // The joined/left notice comes through the spine; only a refusal is answered here, from any thread.
        sequencer.membership(join, connection.userId(), name, status ->
        {
            if (status < 0)
            {
                connection.runOnIoThread(() -> connection.sendError(Refusals.name(status),
                    "the room change was not made: " + truncate(name)));
            }
        });
    }

    private void toRuntime(final UserConnection connection, final String type, final JsonNode message, final String text)
    {
        // The router answers on this I/O thread (at once, or once a cluster's gate decided).
        router.submit(connection.userId(), type, message, text, connection::runOnIoThread, (status, code, why) ->
        {
            if (status != InboundRouter.DELIVERED)
            {
                connection.sendError(code, why);
            }
        });
    }

    static String truncate(final String s)
    {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
