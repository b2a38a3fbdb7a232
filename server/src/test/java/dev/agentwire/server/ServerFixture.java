package dev.agentwire.server;

import dev.agentwire.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A real server on an ephemeral loopback port, with test keys, plus the clients tests use against it. Every client
 * it hands out is closed by {@link #close()}.
 */
final class ServerFixture implements AutoCloseable
{
    final Tokens tokens;
    final AgentWireServer server;
    private final List<WsClient> clients = new ArrayList<>();

    /** @return one event of type {@code app.note} to {@code user} with id {@code id} and empty data, as JSON. */
    static String note(final String user, final String id)
    {
        return "{\"user\":\"" + user + "\",\"type\":\"app.note\",\"id\":\"" + id + "\",\"data\":{}}";
    }

    /** @return a cluster node named {@code name} over {@code redisUrl}, with one slice, in a directory of its own. */
    static ServerFixture clusterNode(final Path dir, final String name, final String redisUrl) throws Exception
    {
        return new ServerFixture(java.nio.file.Files.createDirectories(dir.resolve(name)),
            b -> b.redisUrl(redisUrl).nodeId(name), AgentWireConfig.builder().sliceCount(1));
    }

    ServerFixture(final Path dir, final Consumer<ServerConfig.Builder> customise)
    {
        this(dir, customise, AgentWireConfig.builder().sliceCount(2));
    }

    ServerFixture(final Path dir, final Consumer<ServerConfig.Builder> customise, final AgentWireConfig.Builder engine)
    {
        tokens = new Tokens(dir);
        final ServerConfig.Builder builder = ServerConfig.builder()
            .host("127.0.0.1")
            .port(0)
            .ioThreads(2)
            .jwtSecret(Tokens.SECRET)
            .jwksFile(tokens.jwksFile)
            .producerKey(Tokens.PRODUCER_KEY)
            .shutdownGraceMs(5_000)
            .engine(engine.build());
        customise.accept(builder);
        server = AgentWireServer.start(builder.build());
    }

    URI ws(final String query)
    {
        return URI.create("ws://127.0.0.1:" + server.port() + "/v1/ws" + (query == null ? "" : "?" + query));
    }

    URI http(final String path)
    {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    /** @return this server's metric (the first sample of that name) from {@code /metrics}, or -1 when it has none. */
    long metric(final String name)
    {
        final String metrics;
        try
        {
            metrics = WsClient.HTTP.send(HttpRequest.newBuilder(http("/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
        for (final String line : metrics.split("\n"))
        {
            if (line.startsWith(name + ' '))
            {
                return (long)Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return -1;
    }

    /** Connects a user with an HS256 token. */
    WsClient connect(final String user, final String... rooms) throws Exception
    {
        return connectWith(Tokens.hs256(user, 60_000, rooms), null);
    }

    WsClient connectWith(final String token, final String query) throws Exception
    {
        final WsClient client = WsClient.connect(ws(query), token);
        synchronized (clients)
        {
            clients.add(client);
        }
        return client;
    }

    WsClient producerSocket() throws Exception
    {
        final WsClient client = WsClient.connect(
            URI.create("ws://127.0.0.1:" + server.port() + "/v1/producer"), Tokens.PRODUCER_KEY);
        synchronized (clients)
        {
            clients.add(client);
        }
        return client;
    }

    /** POST /v1/events with the producer key. */
    HttpResponse<String> publish(final String json) throws Exception
    {
        return post("/v1/events", json, Tokens.PRODUCER_KEY);
    }

    /**
     * Publishes until accepted or {@code timeoutMs} has passed, 100 ms apart: while Redis fails over or the node
     * reconnects, a 503's outcome is unknown, so the event should carry an id (a retry is then a duplicate, not a
     * second event).
     *
     * @return the last answer's status (202 once accepted).
     */
    int publishUntilAccepted(final String json, final long timeoutMs) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int status = publish(json).statusCode();
        while (status != 202 && System.nanoTime() < deadline)
        {
            Thread.sleep(100);
            status = publish(json).statusCode();
        }
        return status;
    }

    HttpResponse<String> post(final String path, final String body, final String key) throws Exception
    {
        final HttpRequest.Builder request = HttpRequest.newBuilder(http(path))
            .timeout(Duration.ofSeconds(15))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null)
        {
            request.header("Authorization", "Bearer " + key);
        }
        return WsClient.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postBytes(final String pathAndQuery, final byte[] body) throws Exception
    {
        final HttpRequest request = HttpRequest.newBuilder(http(pathAndQuery))
            .timeout(Duration.ofSeconds(15))
            .header("Authorization", "Bearer " + Tokens.PRODUCER_KEY)
            .header("Content-Type", "application/octet-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
        return WsClient.HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> send(final String method, final String path) throws Exception
    {
        final HttpRequest request = HttpRequest.newBuilder(http(path))
            .timeout(Duration.ofSeconds(15))
            .header("Authorization", "Bearer " + Tokens.PRODUCER_KEY)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build();
        return WsClient.HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(final HttpResponse<String> response) throws Exception
    {
        return Json.MAPPER.readTree(response.body());
    }

    /** The five events of a run as one JSON batch for a user. */
    static String runBatch(final String user, final String run)
    {
        return "[" +
            "{\"user\":\"" + user + "\",\"type\":\"agent_started\",\"run_id\":\"" + run + "\",\"thread_id\":\"t-" + run +
            "\",\"id\":\"" + run + "-1\",\"data\":{\"agent\":\"helper\"}}," +
            "{\"user\":\"" + user + "\",\"type\":\"agent_thinking\",\"run_id\":\"" + run + "\",\"thread_id\":\"t-" + run +
            "\",\"data\":{\"text\":\"Looking\"}}," +
            "{\"user\":\"" + user + "\",\"type\":\"tool_executing\",\"run_id\":\"" + run + "\",\"thread_id\":\"t-" + run +
            "\",\"data\":{\"tool_call_id\":\"c1\",\"tool\":\"search\",\"args\":{\"q\":\"weather\"}}}," +
            "{\"user\":\"" + user + "\",\"type\":\"tool_completed\",\"run_id\":\"" + run + "\",\"thread_id\":\"t-" + run +
            "\",\"data\":{\"tool_call_id\":\"c1\",\"result\":{\"temp\":21}}}," +
            "{\"user\":\"" + user + "\",\"type\":\"agent_completed\",\"run_id\":\"" + run + "\",\"thread_id\":\"t-" + run +
            "\",\"data\":{\"outcome\":\"success\",\"result\":\"21 degrees\"}}" +
            "]";
    }

    @Override
    public void close()
    {
        synchronized (clients)
        {
            for (final WsClient client : clients)
            {
                client.close();
            }
            clients.clear();
        }
        server.close();
    }
}
