package dev.agentwire.producer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.AgentWireServer;
import dev.agentwire.server.ServerConfig;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/** A real server in this process on a loopback port, users' sockets that record what arrives, and a proxy. */
final class TestServer implements AutoCloseable
{
    static final String SECRET = "java-client-test-secret-0123456789-0123456789";
    static final String KEY = "java-client-test-producer-key-0123456789";

    final AgentWireServer server;

    TestServer()
    {
        server = AgentWireServer.start(ServerConfig.builder().host("127.0.0.1").port(0).ioThreads(2)
            .jwtSecret(SECRET).producerKey(KEY).producerRatePerSec(1_000_000).producerBurst(1_000_000)
            .inboundRatePerSec(100_000).inboundBurst(100_000)
            .engine(AgentWireConfig.builder().sliceCount(2).build()).build());
    }

    String url()
    {
        return "http://127.0.0.1:" + server.port();
    }

    @Override
    public void close()
    {
        server.close();
    }

    static String token(final String user)
    {
        final Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        final String head = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        final String body = b64.encodeToString(("{\"sub\":\"" + user + "\",\"exp\":" +
            (System.currentTimeMillis() / 1000 + 600) + "}").getBytes(StandardCharsets.UTF_8));
        try
        {
            final Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return head + "." + body + "." + b64.encodeToString(mac.doFinal((head + "." + body)
                .getBytes(StandardCharsets.UTF_8)));
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** A user's {@code /v1/ws}: every frame it gets, in order. */
    final class UserSocket implements AutoCloseable
    {
        final List<JsonNode> frames = new CopyOnWriteArrayList<>();
        final WebSocket socket;

        UserSocket(final String user) throws Exception
        {
            socket = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" +
                server.port() + "/v1/ws?access_token=" + token(user)), new WebSocket.Listener()
                {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(final WebSocket ws, final CharSequence data, final boolean last)
                    {
                        partial.append(data);
                        if (last)
                        {
                            frames.add(HttpTransport.json(partial.toString().getBytes(StandardCharsets.UTF_8)));
                            partial.setLength(0);
                        }
                        ws.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
            until(f -> f.stream().anyMatch(m -> "welcome".equals(m.path("type").asText())), 10_000);
        }

        List<JsonNode> events()
        {
            return frames.stream().filter(f -> f.has("seq") && !"welcome".equals(f.path("type").asText()) &&
                !"resumed".equals(f.path("type").asText())).collect(Collectors.toList());
        }

        void send(final String json) throws Exception
        {
            socket.sendText(json, true).get(5, TimeUnit.SECONDS);
        }

        /** Waits for the very condition the caller then asserts. */
        void until(final Predicate<List<JsonNode>> condition, final long timeoutMs) throws InterruptedException
        {
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (!condition.test(frames))
            {
                if (System.nanoTime() > deadline)
                {
                    throw new AssertionError("not within " + timeoutMs + " ms; frames: " + frames);
                }
                Thread.sleep(10);
            }
        }

        @Override
        public void close()
        {
            socket.abort();
        }
    }

    /**
     * A TCP proxy to the server. While {@code cutsLeft > 0} it forwards a request and drops the server's answer with
     * the connection (the client's request was stored, its answer never came); while {@code paused} it holds what the
     * client sends (the server looks stalled).
     */
    final class Proxy implements AutoCloseable
    {
        final ServerSocket listener;
        final AtomicInteger cutsLeft = new AtomicInteger();
        final AtomicInteger cuts = new AtomicInteger();
        final AtomicInteger accepted = new AtomicInteger();
        volatile boolean paused;
        private final List<Socket> open = new CopyOnWriteArrayList<>();
        private final Set<Socket> silenced = ConcurrentHashMap.newKeySet();

        Proxy() throws IOException
        {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            final Thread acceptor = new Thread(this::accept, "test-proxy");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String url()
        {
            return "http://127.0.0.1:" + listener.getLocalPort();
        }

        private void accept()
        {
            while (!listener.isClosed())
            {
                try
                {
                    final Socket client = listener.accept();
                    final Socket upstream = new Socket(InetAddress.getLoopbackAddress(), server.port());
                    open.add(client);
                    open.add(upstream);
                    accepted.incrementAndGet();
                    pipe(client, upstream, false);
                    pipe(upstream, client, true);
                }
                catch (final IOException ex)
                {
                    return;
                }
            }
        }

        private void pipe(final Socket from, final Socket to, final boolean answers)
        {
            final Thread thread = new Thread(() ->
            {
                final byte[] buffer = new byte[65536];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream())
                {
                    for (int n = in.read(buffer); n >= 0; n = in.read(buffer))
                    {
                        while (paused && !answers)
                        {
                            Thread.sleep(5);
                        }
                        if (answers && cutsLeft.getAndUpdate(c -> Math.max(0, c - 1)) > 0)
                        {
                            cuts.incrementAndGet();
                            from.close();
                            to.close();
                            return;
                        }
                        if (silenced.contains(from))
                        {
                            continue;
                        }
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                }
                catch (final IOException | InterruptedException ex)
                {
                    // closed
                }
            }, "test-proxy-pipe");
            thread.setDaemon(true);
            thread.start();
        }

        /**
         * Drops every byte of the connections open now, both ways, and closes none: connections that died without a
         * word, as behind a NAT that forgot them (new ones are still taken).
         */
        void silenceAll()
        {
            silenced.addAll(open);
        }

        /** Cuts every connection through the proxy, as a network failure would (new ones are still taken). */
        void cutAll() throws IOException
        {
            for (final Socket socket : open)
            {
                socket.close();
            }
            open.clear();
        }

        @Override
        public void close() throws IOException
        {
            listener.close();
            for (final Socket socket : open)
            {
                socket.close();
            }
        }
    }
}
