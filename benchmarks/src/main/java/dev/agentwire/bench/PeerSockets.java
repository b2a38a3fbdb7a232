package dev.agentwire.bench;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Date;

/**
 * Where and how the load tool's connections open on each peer: the node (round robin over the socket bases), the
 * path the peer speaks on, and the credentials (an AgentWire token listing the user's room, or the peers' user
 * query parameter).
 */
final class PeerSockets
{
    private final String target;
    private final String base;
    private final String[] socketBases;
    private final String jwtSecret;

    PeerSockets(final String target, final String base, final String[] socketBases, final String jwtSecret)
    {
        this.target = target;
        this.base = base;
        this.socketBases = socketBases;
        this.jwtSecret = jwtSecret;
    }

    /** @return the socket URL of connection {@code index}, for {@code user}: on its node, with its credentials. */
    URI uri(final String user, final int index) throws Exception
    {
        final String socketBase = socketBases == null || socketBases.length == 0 ? base :
            socketBases[index % socketBases.length];
        final String ws = socketBase.replaceFirst("^http", "ws");
        switch (target)
        {
            case "agentwire":
                return URI.create(ws + "/v1/ws?access_token=" + token(user, index));
            case "agentwire-agui":
                // The same server and stream, as AG-UI events (the seq is in metadata.agentwire).
                return URI.create(ws + "/v1/ag-ui?access_token=" + token(user, index));
            case "socketio":
                return URI.create(ws + "/socket.io/?EIO=4&transport=websocket&user=" + user);
            default:
                return URI.create(ws + "/v1/ws?user=" + user);
        }
    }

    /** A user's token; it lists the user's room (room10), since a connection sees only the rooms its token lists. */
    private String token(final String user, final int index) throws Exception
    {
        final SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder()
            .subject(user).claim("rooms", java.util.List.of("room-" + (index / 10)))
            .expirationTime(new Date(System.currentTimeMillis() + 3_600_000)).build());
        jwt.sign(new MACSigner(jwtSecret.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
