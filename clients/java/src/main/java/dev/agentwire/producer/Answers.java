package dev.agentwire.producer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the server's answers into one {@link Outcome} per event (docs/PROTOCOL.md, "Answers"), for both transports:
 * stored, refused for good, or to be sent again. The one table of what a retry can help with.
 */
final class Answers
{
    /** Answers a retry can help with: saturated, stopping, or not known to have stored the event. */
    static final Set<String> RETRYABLE = Set.of("ring_full", "rate_limited", "closed", "unavailable",
        "outcome_unknown", "too_many_runs", "run_state_changed", "shutting_down");
    private static final Pattern EVENT_AT = Pattern.compile("^events\\[(\\d+)]");

    /** How one event fared. */
    static final class Outcome
    {
        final Published published;
        final AgentWireException error;
        final boolean retry;
        final long retryAfterMs;

        private Outcome(final Published published, final AgentWireException error, final boolean retry,
            final long retryAfterMs)
        {
            this.published = published;
            this.error = error;
            this.retry = retry;
            this.retryAfterMs = retryAfterMs;
        }

        static Outcome stored(final Published published)
        {
            return new Outcome(published, null, false, 0);
        }

        static Outcome failed(final AgentWireException error)
        {
            return new Outcome(null, error, false, 0);
        }

        static Outcome again(final AgentWireException error, final long retryAfterMs)
        {
            return new Outcome(null, error, true, retryAfterMs);
        }
    }

    private Answers()
    {
    }

    /**
     * The one reading of a refusal, whatever carried it (an HTTP answer, a socket's nack, a native AG-UI batch's):
     * {@link AgentWireException.Unauthorized} and {@link AgentWireException.Refused} are final,
     * {@link AgentWireException.Busy} — saturated, stopping, or not known to have stored it — is worth a retry.
     */
    static AgentWireException refusal(final int status, final String code, final String message)
    {
        if (status == 401)
        {
            return new AgentWireException.Unauthorized(message);
        }
        if (RETRYABLE.contains(code) || status == 429 || status >= 500)
        {
            return new AgentWireException.Busy(code, message, status);
        }
        return new AgentWireException.Refused(code, message, status, null);
    }

    /** @return the outcome of an event so refused: sent again when a retry can help, else failed. */
    static Outcome of(final AgentWireException refusal, final long retryAfterMs)
    {
        return refusal instanceof AgentWireException.Busy ? Outcome.again(refusal, retryAfterMs) :
            Outcome.failed(refusal);
    }

    static Published published(final String id, final JsonNode result)
    {
        final List<Published.Seq> seqs = new ArrayList<>();
        for (final JsonNode seq : result.path("seqs"))
        {
            seqs.add(new Published.Seq(seq.path("user").asText(), seq.path("epoch").asLong(), seq.path("seq").asLong()));
        }
        return new Published(id, result.path("status").asText(), seqs);
    }

    /** {@code POST /v1/events}' answer, for the events sent in order. */
    static List<Outcome> http(final List<String> ids, final int status, final JsonNode body, final long retryAfterMs)
    {
        final int n = ids.size();
        final String code = body.path("error").path("code").asText("http_" + status);
        final String message = body.path("error").path("message").asText("");
        final List<Outcome> out = new ArrayList<>(n);
        final JsonNode results = body.path("results");
        if (results.isArray() && results.size() == n)
        {
            for (int i = 0; i < n; i++)
            {
                final JsonNode result = results.get(i);
                final String name = result.path("status").asText();
                if ("accepted".equals(name) || "duplicate".equals(name))
                {
                    out.add(Outcome.stored(published(ids.get(i), result)));
                }
                else if ("not_attempted".equals(name))
                {
                    out.add(Outcome.again(null, 0));
                }
                else
                {
                    out.add(of(refusal(status, name, message), retryAfterMs));
                }
            }
            return out;
        }
        if (status == 400 || status == 413)
        {
            // Validated whole, nothing published: the message names the event at fault; the others go again.
            final Matcher at = EVENT_AT.matcher(message);
            final int bad = at.find() ? Integer.parseInt(at.group(1)) : -1;
            for (int i = 0; i < n; i++)
            {
                out.add(bad < 0 || bad >= n || i == bad ?
                    Outcome.failed(new AgentWireException.Refused(code, message, status, null)) : Outcome.again(null, 0));
            }
            return out;
        }
        for (int i = 0; i < n; i++)
        {
            out.add(of(refusal(status, code, message.isEmpty() ? "unexpected HTTP " + status : message),
                retryAfterMs));
        }
        return out;
    }

    /** A producer socket's {@code ack} or {@code nack} for one event. */
    static Outcome frame(final String id, final JsonNode answer)
    {
        if ("ack".equals(answer.path("type").asText()))
        {
            return Outcome.stored(published(id, answer));
        }
        final int status = answer.path("status").asInt();
        return of(refusal(status, answer.path("code").asText("http_" + status), answer.path("message").asText("")),
            0);
    }
}
