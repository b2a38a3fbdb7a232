package dev.agentwire.server.agui;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.server.wire.JsonScan;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an AG-UI client that joins without a cursor would miss: the {@code RUN_STARTED} of every run still open,
 * and the starts of the native parts (messages, tool calls, reasoning, steps) still open in them. A connection
 * opened without a cursor subscribes from the start of the user's history; this reads that history silently up to
 * the live point the welcome names ({@link #track}), then writes a <em>prelude</em> — each open run's
 * {@code RUN_STARTED} and open parts' starts, marked {@code metadata.agentwire.prelude: true}, then
 * {@code CUSTOM agentwire.live} — a send window at a time ({@link #write}), before any live event.
 * <p>
 * Cost, bounded: tracking keeps per open run its ids and per open part only AG-UI's start fields (ids are bounded at
 * ingest), reads a window of history per drain, and happens once per connection. Tracking decodes the ids it keeps
 * (allocates); live mapping does not. Threading: the connection's I/O thread.
 */
final class AgUiPrelude
{
    /** Waiting for the welcome that says where live begins. */
    private static final int AWAIT_WELCOME = 0;
    /** Reading the replayed history silently, up to {@link #liveSeq}, to learn the open runs. */
    private static final int TRACKING = 1;
    /** Writing the prelude, piece by piece; live events wait behind it. */
    private static final int WRITING = 2;
    /** Done (or a client's own resume): events are mapped as they come. */
    private static final int PASS = 3;

    /** Record bytes a tracking drain counts per event besides its payload (its envelope). */
    private static final int ENVELOPE_BYTES = 64;

    private static final byte[] AGENT = "agent_".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TOOL = "tool_".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PREFIX = AgUiVocabulary.PREFIX.getBytes(StandardCharsets.US_ASCII);
    private static final byte[][] START_FIELD_TOKENS = new byte[AgUiVocabulary.START_FIELDS.length][];
    /** The id field of each kind of part ({@code "messageId"}, …) as its JSON token, made once. */
    private static final Map<String, byte[]> ID_TOKENS = new java.util.HashMap<>();
    /** The fields AG-UI defines for RUN_FINISHED: what the prelude repeats of a run that ended on an interrupt. */
    private static final String[] FINISHED_FIELDS = {"type", "threadId", "runId", "outcome", "result", "timestamp"};
    private static final byte[][] FINISHED_FIELD_TOKENS = new byte[FINISHED_FIELDS.length][];
    private static final byte[] OUTCOME = AgUiVocabulary.token("outcome");
    private static final byte[] TYPE = AgUiVocabulary.token("type");
    private static final byte[] INTERRUPT = "\"interrupt\"".getBytes(StandardCharsets.US_ASCII);

    static
    {
        for (int i = 0; i < START_FIELD_TOKENS.length; i++)
        {
            START_FIELD_TOKENS[i] = AgUiVocabulary.token(AgUiVocabulary.START_FIELDS[i]);
        }
        for (final String idField : AgUiVocabulary.OPENS.values())
        {
            ID_TOKENS.put(idField, AgUiVocabulary.token(idField));
        }
        for (int i = 0; i < FINISHED_FIELDS.length; i++)
        {
            FINISHED_FIELD_TOKENS[i] = AgUiVocabulary.token(FINISHED_FIELDS[i]);
        }
    }

    /** A native part still open: its start fields (a JSON object's members, without braces) and its start's seq. */
    private static final class OpenPart
    {
        final byte[] startFields;
        final long seq;

        OpenPart(final byte[] startFields, final long seq)
        {
            this.startFields = startFields;
            this.seq = seq;
        }
    }

    /** A run seen while tracking: its thread, the seq and epoch of the event that showed it first, its open parts. */
    private static final class OpenRun
    {
        final String threadId;
        final long seq;
        final long epoch;
        final Map<String, OpenPart> openParts = new LinkedHashMap<>();

        OpenRun(final String threadId, final long seq, final long epoch)
        {
            this.threadId = threadId;
            this.seq = seq;
            this.epoch = epoch;
        }
    }

    /**
     * A run that ended on an interrupt (AG-UI 1.0 human in the loop) and is its thread's latest: what it waits for is
     * still unanswered, so a client that joins now must see it. Its RUN_FINISHED's fields, and where it was.
     */
    private static final class Interrupted
    {
        final String runId;
        final OpenRun run;
        final byte[] finishedFields;
        final long finishedSeq;

        Interrupted(final String runId, final OpenRun run, final byte[] finishedFields, final long finishedSeq)
        {
            this.runId = runId;
            this.run = run;
            this.finishedFields = finishedFields;
            this.finishedSeq = finishedSeq;
        }
    }

    private final Map<String, OpenRun> openRuns = new LinkedHashMap<>();
    /** Thread → its latest run, when that run ended on an interrupt. */
    private final Map<String, Interrupted> interrupted = new LinkedHashMap<>();
    private Iterator<Interrupted> interrupts;
    private int mode = AWAIT_WELCOME;
    private long liveSeq;
    // The replay's resumed notice was read: from here the subscription is attached and its queue is the replay.
    private boolean replayStarted;
    // History bytes read in this drain (a drain reads at most a window of it).
    private int readBytes;
    // The prelude being written: the runs still to open, the run being opened and its parts still to open.
    private Iterator<Map.Entry<String, OpenRun>> runs;
    private Map.Entry<String, OpenRun> run;
    private Iterator<OpenPart> parts;

    /** @return true while the user's history is read for the prelude. */
    boolean isTracking()
    {
        return mode == TRACKING || mode == AWAIT_WELCOME;
    }

    /** @return true while the prelude is written: live events wait. */
    boolean isWriting()
    {
        return mode == WRITING;
    }

    /** A drain begins: it may read a window of history. */
    void beginDrain()
    {
        readBytes = 0;
    }

    /** The subscription's welcome: the first names the live point; a later one is the client's own resume. */
    void onWelcome(final long lastSeq)
    {
        if (mode == AWAIT_WELCOME)
        {
            liveSeq = lastSeq;
            mode = TRACKING;
        }
        else
        {
            mode = PASS;
            openRuns.clear();
            interrupted.clear();
        }
    }

    /**
     * The answer to the subscription's resume from the start of history.
     *
     * @return true when it was the prelude's own replay (not news for the client: not sent).
     */
    boolean onResumed(final long fromSeq, final long toSeq)
    {
        if (mode != TRACKING)
        {
            return false;
        }
        replayStarted = true;
        if (toSeq < fromSeq || liveSeq == 0)
        {
            begin();
        }
        return true;
    }

    /**
     * Called after a drain that left nothing queued: when the history's last events were passed over (a room this
     * connection's token does not list), the live point is reached without the event the welcome named.
     *
     * @return true when the prelude begins.
     */
    boolean onQueueEmpty()
    {
        if (mode == TRACKING && replayStarted)
        {
            begin();
            return true;
        }
        return false;
    }

    /**
     * An event read while tracking.
     *
     * @param budgetBytes what one drain may read.
     * @return true when it was history (read, not sent); false when it is not taken now: the drain read its window,
     *         or the event is live and waits behind the prelude, which has just begun.
     */
    boolean track(final AgentEvent e, final int budgetBytes)
    {
        if (readBytes >= budgetBytes)
        {
            return false;
        }
        if (e.seq() > liveSeq)
        {
            begin();
            return false;
        }
        readBytes += e.payloadLength() + ENVELOPE_BYTES;
        if (!e.isBinary())
        {
            trackEvent(e);
        }
        if (e.seq() == liveSeq)
        {
            begin();
        }
        return true;
    }

    private void trackEvent(final AgentEvent e)
    {
        final int runAt = e.stringOffset(AgentEvent.RUN_ID);
        if (runAt < 0)
        {
            return;
        }
        final DirectBuffer src = e.frameBuffer();
        final int type = e.stringOffset(AgentEvent.TYPE);
        final int typeLength = e.stringLength(AgentEvent.TYPE);
        final String runId = src.getStringWithoutLengthUtf8(runAt, e.stringLength(AgentEvent.RUN_ID));
        if (AgUiGroups.endsRun(src, type, typeLength))
        {
            final OpenRun ended = openRuns.remove(runId);
            if (ended != null && AgUiEventMapper.is(src, type, typeLength, AgUiGroups.RUN_FINISHED_TYPE) &&
                isInterrupt(e))
            {
                interrupted.put(ended.threadId, new Interrupted(runId, ended,
                    fields(src, e.payloadOffset(), e.payloadOffset() + e.payloadLength(), FINISHED_FIELDS,
                        FINISHED_FIELD_TOKENS, true), e.seq()));
            }
            return;
        }
        final boolean isNative = AgUiEventMapper.startsWith(src, type, typeLength, PREFIX);
        if (!isNative && !AgUiEventMapper.startsWith(src, type, typeLength, AGENT) &&
            !AgUiEventMapper.startsWith(src, type, typeLength, TOOL))
        {
            return;
        }
        OpenRun run = openRuns.get(runId);
        if (run == null)
        {
            final int threadAt = e.stringOffset(AgentEvent.THREAD_ID);
            final String threadId = threadAt < 0 ? runId :
                src.getStringWithoutLengthUtf8(threadAt, e.stringLength(AgentEvent.THREAD_ID));
            run = new OpenRun(threadId, e.seq(), e.epoch());
            openRuns.put(runId, run);
            // A new run on the thread: the interrupt before it was answered (or given up), by this run's input.
            interrupted.remove(threadId);
        }
        if (isNative)
        {
            trackPart(run, AgUiVocabulary.agUiType(src.getStringWithoutLengthUtf8(type, typeLength)), e);
        }
    }

    private static void trackPart(final OpenRun run, final String agUiType, final AgentEvent e)
    {
        final DirectBuffer src = e.frameBuffer();
        final int data = e.payloadOffset();
        final int end = data + e.payloadLength();
        final String idField = AgUiVocabulary.OPENS.get(agUiType);
        if (idField != null)
        {
            run.openParts.put(agUiType + ':' + idOf(src, data, end, idField), new OpenPart(startFields(src, data, end),
                e.seq()));
            return;
        }
        final String opener = AgUiVocabulary.CLOSES.get(agUiType);
        if (opener != null)
        {
            run.openParts.remove(opener + ':' + idOf(src, data, end, AgUiVocabulary.OPENS.get(opener)));
        }
    }

    /** @return the part's id as written (its JSON token), enough to pair a start with its end. */
    private static String idOf(final DirectBuffer src, final int data, final int end, final String field)
    {
        final int value = JsonScan.field(src, data, end, ID_TOKENS.get(field));
        if (value < 0)
        {
            return "";
        }
        final int valueEnd = JsonScan.skipValue(src, value, end);
        return src.getStringWithoutLengthUtf8(value, valueEnd - value);
    }

    /**
     * The fields AG-UI defines for a start event, and nothing else: what the prelude re-opens a part with. Fields a
     * producer added (unchecked, up to the message size each) are not kept nor repeated: an audit once reached 60 MB
     * per prelude that way. Ids are bounded at ingest, so a tracked part costs a few hundred bytes at most.
     */
    private static byte[] startFields(final DirectBuffer src, final int data, final int end)
    {
        return fields(src, data, end, AgUiVocabulary.START_FIELDS, START_FIELD_TOKENS, false);
    }

    /**
     * @param structured whether object and array values are kept (a RUN_FINISHED's outcome; its size is bounded by
     *                   the message size, and only a thread's latest interrupted run is kept).
     * @return the named fields of a stored AG-UI event, as members of a JSON object (without braces).
     */
    private static byte[] fields(final DirectBuffer src, final int data, final int end, final String[] names,
        final byte[][] tokens, final boolean structured)
    {
        final ExpandableArrayBuffer kept = new ExpandableArrayBuffer(128);
        final AgUiFrames w = new AgUiFrames().wrap(kept, 0);
        boolean first = true;
        for (int i = 0; i < tokens.length; i++)
        {
            final int value = JsonScan.field(src, data, end, tokens[i]);
            if (value < 0 || !structured && (src.getByte(value) == '{' || src.getByte(value) == '['))
            {
                continue;
            }
            w.ascii(first ? "\"" : ",\"").ascii(names[i]).ascii("\":")
                .value(src, value, JsonScan.skipValue(src, value, end));
            first = false;
        }
        final byte[] bytes = new byte[w.position()];
        kept.getBytes(0, bytes);
        return bytes;
    }

    /** @return whether a native RUN_FINISHED's outcome is an interrupt ({@code "outcome":{"type":"interrupt",…}}). */
    private static boolean isInterrupt(final AgentEvent e)
    {
        final DirectBuffer src = e.frameBuffer();
        final int data = e.payloadOffset();
        final int end = data + e.payloadLength();
        final int outcome = JsonScan.field(src, data, end, OUTCOME);
        if (outcome < 0 || src.getByte(outcome) != '{')
        {
            return false;
        }
        final int outcomeEnd = JsonScan.skipValue(src, outcome, end);
        final int type = JsonScan.field(src, outcome, outcomeEnd, TYPE);
        return type >= 0 && JsonScan.skipValue(src, type, outcomeEnd) - type == INTERRUPT.length &&
            AgUiEventMapper.startsWith(src, type, INTERRUPT.length, INTERRUPT);
    }

    /** Begins the prelude: from here, {@link #write} writes it piece by piece, within the send window. */
    private void begin()
    {
        mode = WRITING;
        runs = openRuns.entrySet().iterator();
        interrupts = interrupted.values().iterator();
        run = null;
        parts = null;
    }

    /**
     * Writes the next piece of the prelude: stops once {@code budgetBytes} are written (one event may pass it), so a
     * prelude of many open runs and parts goes out drain by drain, like a replay.
     */
    void write(final AgUiFrames w, final int budgetBytes)
    {
        final int start = w.position();
        while (mode == WRITING && w.position() - start < budgetBytes)
        {
            if (parts != null && parts.hasNext())
            {
                final OpenPart part = parts.next();
                w.begin().members(part.startFields);
                metadata(w, part.seq, run.getKey(), run.getValue());
                w.end();
            }
            else if (runs.hasNext())
            {
                run = runs.next();
                final OpenRun open = run.getValue();
                w.begin(AgUiTokens.TYPE_RUN_STARTED).name(AgUiTokens.THREAD_ID).string(open.threadId)
                    .name(AgUiTokens.RUN_ID).string(run.getKey());
                metadata(w, open.seq, run.getKey(), open);
                w.end();
                parts = open.openParts.values().iterator();
            }
            else if (interrupts.hasNext())
            {
                // A thread whose latest run waits for an answer: the run and its interrupt, so this client can
                // answer it (the next run's RunAgentInput.resume) — as if it had watched the run end.
                final Interrupted waiting = interrupts.next();
                w.begin(AgUiTokens.TYPE_RUN_STARTED).name(AgUiTokens.THREAD_ID).string(waiting.run.threadId)
                    .name(AgUiTokens.RUN_ID).string(waiting.runId);
                metadata(w, waiting.run.seq, waiting.runId, waiting.run);
                w.end();
                w.begin().members(waiting.finishedFields);
                metadata(w, waiting.finishedSeq, waiting.runId, waiting.run);
                w.end();
            }
            else
            {
                // The prelude is whole: what follows is live. A client re-attaching to a run learns here that it
                // has every open run it is going to be told of.
                w.begin(AgUiTokens.TYPE_CUSTOM).name(AgUiTokens.NAME).raw(AgUiTokens.AGENTWIRE_LIVE)
                    .name(AgUiTokens.VALUE).open()
                    .name(AgUiTokens.SEQ).number(liveSeq).name(AgUiTokens.OPEN_RUNS).number(openRuns.size()).close();
                w.end();
                mode = PASS;
                openRuns.clear();
                interrupted.clear();
                interrupts = null;
                runs = null;
                run = null;
                parts = null;
            }
        }
    }

    /** {@code metadata: {agentwire: {seq, epoch, runId, threadId, prelude: true}}} of a prelude event. */
    private static void metadata(final AgUiFrames w, final long seq, final String runId, final OpenRun run)
    {
        w.name(AgUiTokens.METADATA).open().name(AgUiTokens.AGENTWIRE).open()
            .name(AgUiTokens.SEQ).number(seq)
            .name(AgUiTokens.EPOCH).number(run.epoch)
            .name(AgUiTokens.RUN_ID).string(runId)
            .name(AgUiTokens.THREAD_ID).string(run.threadId)
            .name(AgUiTokens.PRELUDE).raw(AgUiTokens.TRUE)
            .close().close();
    }
}
