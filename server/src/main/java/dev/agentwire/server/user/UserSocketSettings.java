package dev.agentwire.server.user;

import java.util.Set;

/**
 * The settings of users' sockets, as the server's configuration validated them: a view, built once at start.
 *
 * @param allowedOrigins      Origins allowed to open user sockets; empty allows any.
 * @param maxMessageBytes     largest client message (1009 above).
 * @param inboundRatePerSec   frames per second a connection may send (4002 above).
 * @param inboundBurst        burst of that.
 * @param maxBadMessages      bad messages a connection may send; the last closes it with 4003.
 * @param heartbeatIntervalMs server ping period.
 * @param heartbeatTimeoutMs  silence before 4005.
 * @param sendWindowBytes     bytes one drain writes to a socket (what a client that does not read holds at most).
 * @param trustedProxies      proxies whose forwarding headers name the client (per-address cap, logs).
 */
public record UserSocketSettings(
    Set<String> allowedOrigins,
    int maxMessageBytes,
    int inboundRatePerSec,
    int inboundBurst,
    int maxBadMessages,
    long heartbeatIntervalMs,
    long heartbeatTimeoutMs,
    int sendWindowBytes,
    Set<String> trustedProxies)
{
    /** Copies the sets: the settings never change after start. */
    public UserSocketSettings
    {
        allowedOrigins = Set.copyOf(allowedOrigins);
        trustedProxies = Set.copyOf(trustedProxies);
    }
}
