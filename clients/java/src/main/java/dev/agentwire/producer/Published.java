package dev.agentwire.producer;

import java.util.List;

/**
 * A stored event: {@link #status()} is {@code accepted}, or {@code duplicate} when an earlier attempt with the same id
 * stored it (a retry after a cut: delivered once). {@link #seqs()} has one entry per recipient.
 */
public final class Published
{
    /** An event's number in one recipient's stream: resume a client with (epoch, seq). */
    public static final class Seq
    {
        private final String user;
        private final long epoch;
        private final long seq;

        Seq(final String user, final long epoch, final long seq)
        {
            this.user = user;
            this.epoch = epoch;
            this.seq = seq;
        }

        public String user()
        {
            return user;
        }

        public long epoch()
        {
            return epoch;
        }

        public long seq()
        {
            return seq;
        }

        @Override
        public String toString()
        {
            return user + "@" + epoch + ":" + seq;
        }
    }

    private final String id;
    private final String status;
    private final List<Seq> seqs;

    Published(final String id, final String status, final List<Seq> seqs)
    {
        this.id = id;
        this.status = status;
        this.seqs = List.copyOf(seqs);
    }

    /** @return the idempotency key it went with. */
    public String id()
    {
        return id;
    }

    /** @return {@code accepted} or {@code duplicate}. */
    public String status()
    {
        return status;
    }

    /** @return each recipient's number (empty for a duplicate: the attempt that stored it was told). */
    public List<Seq> seqs()
    {
        return seqs;
    }

    /** @return the first recipient's seq (a user's event has one), or -1. */
    public long seq()
    {
        return seqs.isEmpty() ? -1 : seqs.get(0).seq();
    }

    @Override
    public String toString()
    {
        return "Published{id=" + id + ", status=" + status + ", seqs=" + seqs + "}";
    }
}
