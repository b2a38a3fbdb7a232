package dev.agentwire.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Free loopback ports for what a test starts as a process of its own (Redis, a node). The test classes run in
 * parallel forks (server/pom.xml), and a port the kernel calls free stays free only until a process binds it, which
 * a started process does a while later, and again after each restart on the same port. So each fork takes only
 * ports of its own share, and two forks never start processes on one port. The share goes by port pairs, not by
 * port: Linux hands odd ports to {@code bind(0)} and keeps even ones for {@code connect()}.
 */
final class TestPorts
{
    /** Surefire's {@code forkCount} and this fork's {@code surefire.forkNumber} (from 1), set by server/pom.xml. */
    private static final int FORKS = Math.max(1, Integer.getInteger("agentwire.test.forks", 1));
    private static final int SHARE = (Integer.getInteger("agentwire.test.fork", 1) - 1) % FORKS;
    private static final int TRIES = 1_000;

    private TestPorts()
    {
    }

    /** @return a free loopback port of the kernel's choosing and this fork's share. */
    static int free() throws IOException
    {
        for (int tries = 0; tries < TRIES; tries++)
        {
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
            {
                if (isOurs(probe.getLocalPort()))
                {
                    return probe.getLocalPort();
                }
            }
        }
        throw new IllegalStateException("no free port of this fork's share: forks=" + FORKS + " share=" + SHARE);
    }

    /** @return whether this fork may start a process on the port. */
    static boolean isOurs(final int port)
    {
        return (port >> 1) % FORKS == SHARE;
    }
}
