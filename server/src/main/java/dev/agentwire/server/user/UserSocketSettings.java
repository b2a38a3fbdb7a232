package dev.agentwire.server.user;

import java.util.Set;

/**
 * The settings of users' sockets, as the server's configuration validated them: a view, built once at start.
 */
public final class UserSocketSettings
{
    final Set<String> allowedOrigins;
    final int maxMessageBytes;
    final int inboundRatePerSec;
    final int inboundBurst;
    final int maxBadMessages;
    final long heartbeatIntervalMs;
    final long heartbeatTimeoutMs;
    final int sendWindowBytes;
    final Set<String> trustedProxies;

    /**
     * @param allowedOrigins      Origins allowed to open user sockets; empty allows any.
     * @param maxMessageBytes     largest client message (1009 above).
     * @param inboundRatePerSec   messages per second a connection may send (4002 above).
     * @param inboundBurst        burst of that.
     * @param maxBadMessages      bad messages a connection may send; the last closes it with 4003.
     * @param heartbeatIntervalMs server ping period.
     * @param heartbeatTimeoutMs  silence before 4005.
     * @param sendWindowBytes     bytes handed to a socket and not yet written before it stops draining.
     * @param trustedProxies      proxies whose forwarding headers name the client (per-address cap, logs).
     */
    public UserSocketSettings(
        final Set<String> allowedOrigins,
        final int maxMessageBytes,
        final int inboundRatePerSec,
        final int inboundBurst,
        final int maxBadMessages,
        final long heartbeatIntervalMs,
        final long heartbeatTimeoutMs,
        final int sendWindowBytes,
        final Set<String> trustedProxies)
    {
        this.allowedOrigins = Set.copyOf(allowedOrigins);
        this.maxMessageBytes = maxMessageBytes;
        this.inboundRatePerSec = inboundRatePerSec;
        this.inboundBurst = inboundBurst;
        this.maxBadMessages = maxBadMessages;
        this.heartbeatIntervalMs = heartbeatIntervalMs;
        this.heartbeatTimeoutMs = heartbeatTimeoutMs;
        this.sendWindowBytes = sendWindowBytes;
        this.trustedProxies = Set.copyOf(trustedProxies);
    }
}
