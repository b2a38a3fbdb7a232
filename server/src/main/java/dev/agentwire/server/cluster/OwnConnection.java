package dev.agentwire.server.cluster;

import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;

/** A connection of its own (blocking commands need one), to a single Redis or a sharded one. */
final class OwnConnection implements AutoCloseable
{
    final RedisClusterCommands<String, byte[]> sync;
    final RedisClusterAsyncCommands<String, byte[]> async;
    private final StatefulConnection<String, byte[]> connection;

    OwnConnection(final StatefulConnection<String, byte[]> connection,
        final RedisClusterCommands<String, byte[]> sync, final RedisClusterAsyncCommands<String, byte[]> async)
    {
        this.connection = connection;
        this.sync = sync;
        this.async = async;
    }

    @Override
    public void close()
    {
        connection.close();
    }
}
