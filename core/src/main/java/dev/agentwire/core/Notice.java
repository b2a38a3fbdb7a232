package dev.agentwire.core;

/**
 * A control record that travels a subscription's queue in order with its events.
 */
final class Notice
{
    static final int WELCOME = 1;
    static final int RESUMED = 2;
    static final int JOINED = 3;
    static final int LEFT = 4;
    static final int CLOSED = 5;

    static final int FOOTPRINT_BYTES = 64;

    final int kind;
    final String text;
    final long epoch;
    final long a;
    final long b;
    final boolean flag;

    private Notice(final int kind, final String text, final long epoch, final long a, final long b, final boolean flag)
    {
        this.kind = kind;
        this.text = text;
        this.epoch = epoch;
        this.a = a;
        this.b = b;
        this.flag = flag;
    }

    static Notice welcome(final String userId, final long epoch, final long lastSeq)
    {
        return new Notice(WELCOME, userId, epoch, lastSeq, 0, false);
    }

    static Notice resumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
    {
        return new Notice(RESUMED, null, epoch, fromSeq, toSeq, recovered);
    }

    static Notice joined(final String room)
    {
        return new Notice(JOINED, room, 0, 0, 0, false);
    }

    static Notice left(final String room)
    {
        return new Notice(LEFT, room, 0, 0, 0, false);
    }

    static Notice closed(final int reason)
    {
        return new Notice(CLOSED, null, 0, reason, 0, false);
    }

    void dispatch(final SubscriptionHandler handler)
    {
        switch (kind)
        {
            case WELCOME:
                handler.onWelcome(text, epoch, a);
                break;
            case RESUMED:
                handler.onResumed(flag, epoch, a, b);
                break;
            case JOINED:
                handler.onJoined(text);
                break;
            case LEFT:
                handler.onLeft(text);
                break;
            case CLOSED:
                handler.onClosed((int)a);
                break;
            default:
                throw new IllegalStateException("notice kind=" + kind);
        }
    }
}
