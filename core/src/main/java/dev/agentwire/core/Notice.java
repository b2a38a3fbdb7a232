package dev.agentwire.core;

/**
 * A control record for one subscription (welcome, resumed, joined, left, closed), delivered in order with the
 * user's events: after every event up to {@link #afterSeq}, before the next. Made on the owning slice's thread.
 * Notices are rare (one or two per connection, one per room change), so they are objects; events never are.
 */
final class Notice
{
    static final int WELCOME = 1;
    static final int RESUMED = 2;
    static final int JOINED = 3;
    static final int LEFT = 4;
    static final int CLOSED = 5;

    final int kind;
    final String text;
    final long epoch;
    final long a;
    final long b;
    final boolean flag;
    /** Delivered once every event with a seq up to this one has been. */
    final long afterSeq;
    /** Its neighbour in its subscription's lists of notices (see {@code Subscription}): each notice is offered once. */
    Notice link;

    private Notice(
        final int kind, final String text, final long epoch, final long a, final long b, final boolean flag,
        final long afterSeq)
    {
        this.kind = kind;
        this.text = text;
        this.epoch = epoch;
        this.a = a;
        this.b = b;
        this.flag = flag;
        this.afterSeq = afterSeq;
    }

    static Notice welcome(final String userId, final long epoch, final long lastSeq, final long afterSeq)
    {
        return new Notice(WELCOME, userId, epoch, lastSeq, 0, false, afterSeq);
    }

    static Notice resumed(
        final boolean recovered, final long epoch, final long fromSeq, final long toSeq, final long afterSeq)
    {
        return new Notice(RESUMED, null, epoch, fromSeq, toSeq, recovered, afterSeq);
    }

    static Notice joined(final String room, final long afterSeq)
    {
        return new Notice(JOINED, room, 0, 0, 0, false, afterSeq);
    }

    static Notice left(final String room, final long afterSeq)
    {
        return new Notice(LEFT, room, 0, 0, 0, false, afterSeq);
    }

    static Notice closed(final int reason, final long afterSeq)
    {
        return new Notice(CLOSED, null, 0, reason, 0, false, afterSeq);
    }
}
