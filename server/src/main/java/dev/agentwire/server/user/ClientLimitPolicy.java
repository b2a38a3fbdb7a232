package dev.agentwire.server.user;

import dev.agentwire.server.http.TokenBucket;
import dev.agentwire.server.websocket.WebSocketFrames;

/**
 * What one user connection may send, and how often it may resume (docs/PROTOCOL.md, "Limits"): every frame costs
 * a token of the connection's bucket (a continuation that carries a real share of a message is free), resumes are
 * one at a time and {@link #RESUMES_PER_SEC} per second, and bad messages are counted to a bound. Decides only; the
 * connection answers and closes. Threading: the connection's I/O thread.
 */
final class ClientLimitPolicy
{
    /** {@link #tryResume}: the resume was taken. */
    static final int RESUME_TAKEN = 0;
    /** {@link #tryResume}: a resume is still being answered (its notice or events not all sent yet). */
    static final int RESUME_IN_PROGRESS = 1;
    /** {@link #tryResume}: over the connection's resume rate. */
    static final int RESUME_RATE_LIMITED = 2;
    /** Sustained resumes per second one connection may ask for: each replays up to a user's whole history. */
    static final int RESUMES_PER_SEC = 1;
    /** Burst of resumes. */
    static final int RESUME_BURST = 3;
    /** A continuation frame this large costs no inbound token (see {@link #admitsFrame}). */
    static final int FREE_FRAGMENT_BYTES = 1024;

    private final TokenBucket inbound;
    private final TokenBucket resumes;
    private final int maxBadMessages;
    private int badMessages;
    // A resume was asked for and its answer (the resumed notice) has not been sent yet.
    private boolean resumePending;

    ClientLimitPolicy(final UserSocketSettings settings, final long nowNs)
    {
        inbound = new TokenBucket(settings.inboundRatePerSec(), settings.inboundBurst(), nowNs);
        resumes = new TokenBucket(RESUMES_PER_SEC, RESUME_BURST, nowNs);
        maxBadMessages = settings.maxBadMessages();
    }

    /**
     * @return false when the frame is over the connection's rate (the connection closes with 4002). Every frame a
     *         client sends costs a token, fragments and pings too, so a flood of empty frames is limited like a
     *         flood of messages. Clients split large messages into fragments (the JDK's at a few KiB), and the
     *         message size bound already limits those: a continuation of at least {@link #FREE_FRAGMENT_BYTES} is
     *         free.
     */
    boolean admitsFrame(final int opcode, final long payloadLength, final long nowNs)
    {
        if (opcode == WebSocketFrames.CONTINUATION && payloadLength >= FREE_FRAGMENT_BYTES)
        {
            return true;
        }
        return inbound.tryAcquire(1, nowNs);
    }

    /**
     * @param unreadEvents what the current subscription still has to send.
     * @return {@link #RESUME_TAKEN} (the connection must then subscribe), {@link #RESUME_IN_PROGRESS} or
     *         {@link #RESUME_RATE_LIMITED}.
     */
    int tryResume(final long unreadEvents, final long nowNs)
    {
        if (resumePending || unreadEvents > 0)
        {
            return RESUME_IN_PROGRESS;
        }
        if (!resumes.tryAcquire(1, nowNs))
        {
            return RESUME_RATE_LIMITED;
        }
        resumePending = true;
        return RESUME_TAKEN;
    }

    /** The resume's answer was sent: another may be asked for. */
    void resumeAnswered()
    {
        resumePending = false;
    }

    /** @return true when this bad message reaches the bound (the connection closes with 4003). */
    boolean isLastBadMessage()
    {
        return ++badMessages >= maxBadMessages;
    }
}
