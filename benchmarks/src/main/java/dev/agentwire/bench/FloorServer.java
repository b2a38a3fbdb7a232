package dev.agentwire.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.PathTemplateMatch;
import io.undertow.util.SameThreadExecutor;
import io.undertow.websockets.WebSocketConnectionCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import io.undertow.websockets.spi.WebSocketHttpExchange;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The floor of the WebSocket layer: a bare Undertow server that sends the same frames to the same sockets with no
 * manager — no spine, no history, no queues, no limits. It speaks the same HTTP surface as AgentWire for the load
 * tool: {@code GET /v1/ws?user=U}, {@code POST /v1/events} (a JSON array), {@code PUT /v1/rooms/{room}/members/{user}}.
 * <p>
 * Run: {@code java -cp benchmarks.jar dev.agentwire.bench.FloorServer PORT}
 */
public final class FloorServer implements AutoCloseable
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Set<WebSocketChannel>> sockets = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> rooms = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> seqs = new ConcurrentHashMap<>();
    private final Undertow undertow;
    private final int port;

    public FloorServer(final String host, final int port)
    {
        final WebSocketConnectionCallback onConnect = this::onConnect;
        undertow = Undertow.builder()
            .addHttpListener(port, host)
            .setIoThreads(Math.max(2, Runtime.getRuntime().availableProcessors()))
            .setHandler(Handlers.routing()
                .get("/v1/ws", Handlers.websocket(onConnect))
                .post("/v1/events", this::publish)
                .put("/v1/rooms/{room}/members/{user}", this::join))
            .build();
        undertow.start();
        this.port = ((InetSocketAddress)undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    public int port()
    {
        return port;
    }

    private void onConnect(final WebSocketHttpExchange exchange, final WebSocketChannel channel)
    {
        final List<String> user = exchange.getRequestParameters().get("user");
        final String userId = user == null || user.isEmpty() ? "anonymous" : user.get(0);
        sockets.computeIfAbsent(userId, u -> ConcurrentHashMap.newKeySet()).add(channel);
        channel.addCloseTask(ch -> sockets.computeIfPresent(userId, (u, set) ->
        {
            set.remove(ch);
            return set.isEmpty() ? null : set;
        }));
        channel.resumeReceives();
        WebSockets.sendText("{\"type\":\"welcome\",\"user\":\"" + userId + "\"}", channel, null);
    }

    private void join(final HttpServerExchange exchange)
    {
        final Map<String, String> path = exchange.getAttachment(PathTemplateMatch.ATTACHMENT_KEY).getParameters();
        rooms.computeIfAbsent(path.get("room"), r -> ConcurrentHashMap.newKeySet()).add(path.get("user"));
        exchange.setStatusCode(204);
        exchange.endExchange();
    }

    private void publish(final HttpServerExchange exchange)
    {
        exchange.getRequestReceiver().receiveFullBytes((ex, body) -> ex.dispatch(SameThreadExecutor.INSTANCE, () ->
        {
            try
            {
                int accepted = 0;
                for (final JsonNode event : JSON.readTree(body))
                {
                    deliver(event);
                    accepted++;
                }
                ex.setStatusCode(202);
                ex.getResponseSender().send("{\"accepted\":" + accepted + "}");
            }
            catch (final Exception e)
            {
                ex.setStatusCode(400);
                ex.getResponseSender().send("{\"error\":\"" + e.getClass().getSimpleName() + "\"}");
            }
        }));
    }

    private void deliver(final JsonNode event) throws Exception
    {
        final String type = event.path("type").asText();
        final byte[] data = JSON.writeValueAsBytes(event.get("data"));
        if (event.hasNonNull("user"))
        {
            send(event.get("user").asText(), type, data, null);
        }
        else if (event.hasNonNull("room"))
        {
            final String room = event.get("room").asText();
            for (final String member : rooms.getOrDefault(room, Set.of()))
            {
                send(member, type, data, room);
            }
        }
        else
        {
            for (final String user : sockets.keySet())
            {
                send(user, type, data, null);
            }
        }
    }

    private void send(final String user, final String type, final byte[] data, final String room)
    {
        final Set<WebSocketChannel> channels = sockets.get(user);
        final long seq = seqs.computeIfAbsent(user, u -> new AtomicLong()).incrementAndGet();
        if (channels == null)
        {
            return;
        }
        final String head = "{\"type\":\"" + type + "\",\"seq\":" + seq + (room == null ? "" : ",\"room\":\"" + room + "\"") +
            ",\"data\":";
        final byte[] headBytes = head.getBytes(StandardCharsets.UTF_8);
        final ByteBuffer frame = ByteBuffer.allocate(headBytes.length + data.length + 1);
        frame.put(headBytes).put(data).put((byte)'}').flip();
        for (final WebSocketChannel channel : channels)
        {
            WebSockets.sendText(frame.duplicate(), channel, null);
        }
    }

    @Override
    public void close()
    {
        undertow.stop();
    }

    public static void main(final String[] args) throws InterruptedException
    {
        final FloorServer server = new FloorServer("127.0.0.1", args.length > 0 ? Integer.parseInt(args[0]) : 8090);
        System.out.println("floor serving on " + server.port());
        final CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            server.close();
            stop.countDown();
        }));
        stop.await();
    }
}
