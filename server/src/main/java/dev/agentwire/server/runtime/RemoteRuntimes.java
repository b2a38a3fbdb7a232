package dev.agentwire.server.runtime;

import java.util.function.IntConsumer;

/**
 * Agent runtimes connected to other nodes of a cluster: where a user's message goes when this node holds none.
 * {@link #NONE} on a single node.
 */
public interface RemoteRuntimes
{
    /** A single node: there are no other nodes. */
    RemoteRuntimes NONE = new RemoteRuntimes()
    {
        @Override
        public boolean anyProducers()
        {
            return false;
        }

        @Override
        public boolean anyReady()
        {
            return false;
        }

        @Override
        public void forward(final byte[] message, final IntConsumer done)
        {
            throw new IllegalStateException("no other nodes to forward to");
        }

        @Override
        public void producersChanged()
        {
        }
    };

    /** @return true when some other node holds a producer socket (this node's own are not counted). */
    boolean anyProducers();

    /**
     * @return true when some other node holds a producer socket that had room for a user's message when it last
     * told the cluster (a node tells it at each heartbeat): a message is forwarded only then, and otherwise answered
     * {@code agent_busy}, as on one node, instead of waiting in the cluster behind runtimes that do not read.
     */
    boolean anyReady();

    /**
     * Hands a message (already encoded with its sender) to a runtime on another node. Never blocks.
     *
     * @param message the frame a producer socket receives.
     * @param done    told once, on any thread (this one when the cluster refused it at once):
     *                {@link InboundRouter#DELIVERED} once the cluster holds the message for a runtime,
     *                {@link InboundRouter#AGENT_BUSY} when as many messages as the cluster holds wait already,
     *                {@link InboundRouter#UNAVAILABLE} when it could not be handed over (no runtime gets it),
     *                {@link InboundRouter#OUTCOME_UNKNOWN} when the cluster did not confirm it in time.
     */
    void forward(byte[] message, IntConsumer done);

    /** This node's producer sockets changed: other nodes should learn it now, not at the next heartbeat. */
    void producersChanged();

    /** @param notices where a user is told of a message of theirs that waited for a runtime too long (a cluster's). */
    default void notices(final LostMessageNotices notices)
    {
    }
}
