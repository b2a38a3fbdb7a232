package dev.agentwire.server.runtime;

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
        public void forward(final byte[] message)
        {
            throw new IllegalStateException("no other nodes to forward to");
        }

        @Override
        public void producersChanged()
        {
        }
    };

    /** @return true when some other node holds a producer socket. */
    boolean anyProducers();

    /**
     * Hands a message (already encoded with its sender) to a runtime on another node. Never blocks.
     *
     * @param message the frame a producer socket receives.
     */
    void forward(byte[] message);

    /** This node's producer sockets changed: other nodes should learn it now, not at the next heartbeat. */
    void producersChanged();
}
