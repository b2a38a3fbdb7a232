package dev.agentwire.server.ingest;

import dev.agentwire.server.wire.JsonWriter;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;
import org.agrona.ExpandableArrayBuffer;

/**
 * Writes a batch's outcome (HTTP answers, into the answer's pooled buffer) and one event's (producer-socket acks,
 * through a buffer reused per thread) as JSON: no tree.
 * <pre>
 *   {"accepted":n,["error":{"code":..,"message":..},]"results":[{"index":0,"status":"accepted","position":p,
 *    "seqs":[{"user":..,"epoch":..,"seq":..}]}, ...][,"seqs_pending":true]}
 * </pre>
 */
final class ResultCodec
{
    private static final ThreadLocal<ExpandableArrayBuffer> BUFFERS =
        ThreadLocal.withInitial(() -> new ExpandableArrayBuffer(4096));

    private ResultCodec()
    {
    }

    /** Writes the HTTP answer's body at index 0. @return its length. */
    static int batch(final ExpandableArrayBuffer out, final BatchResult batch, final boolean seqsPending)
    {
        out.putByte(0, (byte)'{');
        return batchFields(out, 1, batch, seqsPending);
    }

    /** Writes a batch's fields from {@code "accepted"} to the closing brace at {@code index}. @return the end. */
    private static int batchFields(
        final ExpandableArrayBuffer out, final int index, final BatchResult batch, final boolean seqsPending)
    {
        int at = index + JsonWriter.putAscii(out, index, "\"accepted\":");
        at += JsonWriter.putLong(out, at, batch.accepted);
        if (!batch.allAccepted())
        {
            at += JsonWriter.putAscii(out, at, ",\"error\":{\"code\":");
            at += JsonWriter.putString(out, at, Refusals.name(batch.refusal));
            at += JsonWriter.putAscii(out, at, ",\"message\":");
            at += JsonWriter.putString(out, at, Refusals.message(batch.refusal));
            out.putByte(at++, (byte)'}');
        }
        at += JsonWriter.putAscii(out, at, ",\"results\":[");
        for (int i = 0; i < batch.results.size(); i++)
        {
            if (i > 0)
            {
                out.putByte(at++, (byte)',');
            }
            at = result(out, at, batch.results.get(i), null);
        }
        out.putByte(at++, (byte)']');
        if (seqsPending)
        {
            at += JsonWriter.putAscii(out, at, ",\"seqs_pending\":true");
        }
        out.putByte(at++, (byte)'}');
        return at;
    }

    /** @return a producer socket's ack for an accepted event (no index: the ref says which). */
    static byte[] ack(final EventResult result, final String ref)
    {
        final ExpandableArrayBuffer out = BUFFERS.get();
        int at = JsonWriter.putAscii(out, 0, "{\"type\":\"ack\"");
        if (ref != null)
        {
            at += JsonWriter.putAscii(out, at, ",\"ref\":");
            at += JsonWriter.putString(out, at, ref);
        }
        at = fields(out, at, result, false);
        out.putByte(at++, (byte)'}');
        return copy(out, at);
    }

    /** @return a producer socket's nack: the HTTP refusal's status, code and message, with the frame's ref. */
    static byte[] nack(final String ref, final int status, final String code, final String message)
    {
        final ExpandableArrayBuffer out = BUFFERS.get();
        int at = JsonWriter.putAscii(out, 0, "{\"type\":\"nack\"");
        if (ref != null)
        {
            at += JsonWriter.putAscii(out, at, ",\"ref\":");
            at += JsonWriter.putString(out, at, ref);
        }
        at += JsonWriter.putAscii(out, at, ",\"status\":");
        at += out.putIntAscii(at, status);
        at += JsonWriter.putAscii(out, at, ",\"code\":");
        at += JsonWriter.putString(out, at, code);
        at += JsonWriter.putAscii(out, at, ",\"message\":");
        at += JsonWriter.putString(out, at, message);
        out.putByte(at++, (byte)'}');
        return copy(out, at);
    }

    /** @return a producer socket's answer to a batch (native AG-UI events): the HTTP answer's fields, typed. */
    static byte[] batchAck(final BatchResult batch, final String ref)
    {
        final ExpandableArrayBuffer out = BUFFERS.get();
        int at = JsonWriter.putAscii(out, 0, batch.allAccepted() ? "{\"type\":\"ack\"" : "{\"type\":\"nack\"");
        if (ref != null)
        {
            at += JsonWriter.putAscii(out, at, ",\"ref\":");
            at += JsonWriter.putString(out, at, ref);
        }
        out.putByte(at++, (byte)',');
        return copy(out, batchFields(out, at, batch, false));
    }

    private static int result(final ExpandableArrayBuffer out, final int index, final EventResult result,
        final String ref)
    {
        int at = index + JsonWriter.putAscii(out, index, "{\"index\":");
        at += JsonWriter.putLong(out, at, result.index);
        at = fields(out, at, result, true);
        out.putByte(at++, (byte)'}');
        return at;
    }

    /** The status, position and seqs of an event, each after a comma. */
    private static int fields(final ExpandableArrayBuffer out, final int index, final EventResult result,
        final boolean afterIndex)
    {
        int at = index + JsonWriter.putAscii(out, index, ",\"status\":");
        at += JsonWriter.putString(out, at, Refusals.name(result.status));
        if (result.position >= 0)
        {
            at += JsonWriter.putAscii(out, at, ",\"position\":");
            at += JsonWriter.putLong(out, at, result.position);
        }
        at += JsonWriter.putAscii(out, at, ",\"seqs\":[");
        final int recipients = result.recipients();
        for (int i = 0; i < recipients; i++)
        {
            out.checkLimit(at + 64 + JsonWriter.stringLength(result.user(i)));
            at += JsonWriter.putAscii(out, at, i == 0 ? "{\"user\":" : ",{\"user\":");
            at += JsonWriter.putString(out, at, result.user(i));
            at += JsonWriter.putAscii(out, at, ",\"epoch\":");
            at += JsonWriter.putLong(out, at, result.epoch(i));
            at += JsonWriter.putAscii(out, at, ",\"seq\":");
            at += JsonWriter.putLong(out, at, result.seq(i));
            out.putByte(at++, (byte)'}');
        }
        out.putByte(at++, (byte)']');
        return at;
    }

    private static byte[] copy(final ExpandableArrayBuffer out, final int length)
    {
        final byte[] bytes = new byte[length];
        out.getBytes(0, bytes);
        return bytes;
    }
}
