package dev.agentwire.server.cluster;

/**
 * A call not sent: its shard's connection is down (the client is reconnecting). Nothing of it reached Redis, so the
 * events it carried are answered 503 not attempted, safe to retry, never outcome unknown.
 */
final class ShardDownException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    ShardDownException(final String shard)
    {
        super("shard unreachable, nothing sent: shard=" + shard, null, false, false);
    }
}
