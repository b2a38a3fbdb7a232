package dev.agentwire.server.websocket;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The accept value a handshake answers with (RFC 6455, 1.3), on one thread and on several. */
final class WebSocketHandshakeTest
{
    @Test
    void shouldAnswerTheRfcExampleKey()
    {
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.accept("dGhlIHNhbXBsZSBub25jZQ=="));
        // The digest is reused: a second key's answer must not depend on the first.
        assertEquals("HSmrc0sMlYUkAGmm5OPpG2HaGWk=", WebSocketHandshake.accept("x3JJHMbDL1EzLkh9GBhXDw=="));
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.accept("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    @Test
    void shouldAnswerTheSameOnEveryThread() throws Exception
    {
        final CompletableFuture<String> other = CompletableFuture.supplyAsync(() ->
            WebSocketHandshake.accept("dGhlIHNhbXBsZSBub25jZQ=="));
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", other.get(10, TimeUnit.SECONDS));
    }
}
