package dev.agentwire.server.agui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.sequencing.BatchResult;
import dev.agentwire.server.sequencing.EventResult;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.RunStateGuard;
import dev.agentwire.server.sequencing.Sequencer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Native AG-UI in ({@code POST /v1/ag-ui/events}, docs/AG-UI.md): a body {@code {"user"|"room": …, "runId"?: …,
 * "events": [AG-UI events]}} becomes drafts of the custom types {@code ag-ui.<type in lower case>}, their data the
 * AG-UI event as sent (numbers byte for byte), each carrying its run's id and thread — after {@link AgUiRules}
 * passed the whole batch. At most {@link #MAX_EVENTS} events a batch. An optional batch key ({@code "id"}) makes a
 * retry safe: event {@code i} gets the event id {@code <id>/<i>}, so events accepted before are answered
 * {@code duplicate} and not delivered again, and the run rules pass over them. Not the fan-out hot path: the body
 * is parsed into a tree. Thread-safe.
 */
public final class AgUiIngest
{
    /** The custom type prefix of native AG-UI events on the stream. */
    static final String TYPE_PREFIX = AgUiVocabulary.PREFIX;
    /** Events one native batch may carry (as {@code POST /v1/events}). */
    public static final int MAX_EVENTS = Sequencer.MAX_BATCH_EVENTS;

    /** A body that is not the documented shape: answered 400 {@code bad_request} with the message. */
    public static final class Invalid extends Exception
    {
        private static final long serialVersionUID = 1L;

        Invalid(final String message)
        {
            super(message, null, false, false);
        }
    }
    /** Longest batch key: with {@code /<index>} it stays within an event id's bound. */
    static final int MAX_BATCH_KEY_LENGTH = EventDraft.MAX_ID_LENGTH - 8;

    /** A checked batch: its drafts and the run state it applied. */
    public static final class Batch
    {
        /** The events to publish, in order. */
        public final List<EventDraft> drafts;
        final AgUiPlan plan;

        Batch(final List<EventDraft> drafts, final AgUiPlan plan)
        {
            this.drafts = drafts;
            this.plan = plan;
        }
    }

    /** A body read and shaped, not yet checked against the run rules. */
    public static final class Parsed
    {
        final String user;
        final String room;
        final String owner;
        final JsonNode events;
        final String openRunId;
        final String batchKey;
        final byte[][] payloads;

        Parsed(final String user, final String room, final JsonNode events, final String openRunId,
            final String batchKey, final byte[][] payloads)
        {
            this.user = user;
            this.room = room;
            this.owner = user != null ? "u:" + user : "r:" + room;
            this.events = events;
            this.openRunId = openRunId;
            this.batchKey = batchKey;
            this.payloads = payloads;
        }

        /** @return how many events the batch carries. */
        public int size()
        {
            return payloads.length;
        }
    }

    /** How a submitted batch ended; told once, on any thread. */
    public interface Answer
    {
        /** A rule refused the batch (422): nothing of it was stored. */
        void refused(AgUiRules.Violation violation);

        /** The producers' rate refused the batch (429): nothing of it was stored. */
        void rateLimited();

        /** The sequencer's answer (all, some or none of the events accepted). */
        void published(BatchResult result);

        /**
         * One node only: the engine took the events (their numbers follow in {@link #published}); what a caller that
         * cannot wait longer may answer with, as {@code POST /v1/events} does.
         */
        default void taken(final BatchResult result)
        {
        }
    }

    /**
     * Times a batch is checked again after the cluster found its runs changed by another node in the meantime
     * (each time against the state it was answered with), before it is answered {@code run_state_changed}.
     */
    static final int MAX_ATTEMPTS = 8;

    private final AgUiRules rules;
    private final int maxMessageBytes;

    /**
     * @param engine          the engine's bounds: native runs are bounded as its runs are ({@code maxRuns},
     *                        {@code maxToolCallsPerRun} open parts, {@code runRetentionMs} after the end).
     * @param maxMessageBytes largest event.
     */
    public AgUiIngest(final AgentWireConfig engine, final int maxMessageBytes)
    {
        this.rules = new AgUiRules(engine.maxRuns(), engine.maxToolCallsPerRun(), engine.runRetentionMs(),
            engine.dedupWindowMs());
        this.maxMessageBytes = maxMessageBytes;
    }

    /** @return native runs whose state is kept now (bounded). */
    public int runs()
    {
        return rules.size();
    }

    /** @return native runs forgotten at the bound or past their retention. */
    public long runsForgotten()
    {
        return rules.forgotten();
    }

    /**
     * @throws Invalid the body is not the documented shape (400).
     * @throws AgUiRules.Violation  an event breaks a run rule (422); nothing was applied.
     */
    public Batch parse(final byte[] body, final int length) throws Invalid, AgUiRules.Violation
    {
        return plan(read(body, length));
    }

    /**
     * The same, for a body already parsed (a producer-socket frame's {@code ag_ui} member).
     *
     * @throws Invalid the body is not the documented shape (400).
     * @throws AgUiRules.Violation  an event breaks a run rule (422); nothing was applied.
     */
    public Batch parse(final JsonNode root) throws Invalid, AgUiRules.Violation
    {
        return plan(read(root));
    }

    /**
     * @return the body read and shaped, to {@link #submit}.
     * @throws Invalid the body is not the documented shape (400).
     */
    public Parsed read(final byte[] body, final int length) throws Invalid
    {
        try
        {
            return read(Json.readExact(body, 0, length, Json.Numbers.EVERYWHERE));
        }
        catch (final IOException ex)
        {
            throw new Invalid("body is not JSON: " + ex.getMessage());
        }
    }

    /**
     * @return a body already parsed (a producer-socket frame's {@code ag_ui} member) shaped, to {@link #submit}.
     * @throws Invalid the body is not the documented shape (400).
     */
    public Parsed read(final JsonNode root) throws Invalid
    {
        if (root == null || !root.isObject())
        {
            throw new Invalid("body must be an object {\"user\" or \"room\", \"events\": [...]}");
        }
        final String user = text(root, "user");
        final String room = text(root, "room");
        if ((user == null) == (room == null))
        {
            throw new Invalid("body needs exactly one of user and room");
        }
        final JsonNode events = root.get("events");
        if (events == null || !events.isArray() || events.isEmpty())
        {
            throw new Invalid("events must be a non-empty array of AG-UI events");
        }
        if (events.size() > MAX_EVENTS)
        {
            throw new Invalid("events has " + events.size() + " events, at most " + MAX_EVENTS +
                " a batch");
        }
        final String batchKey = text(root, "id");
        if (batchKey != null && batchKey.length() > MAX_BATCH_KEY_LENGTH)
        {
            throw new Invalid("id is longer than " + MAX_BATCH_KEY_LENGTH + " characters");
        }
        final String openRunId = text(root, "runId");
        if (openRunId != null && openRunId.length() > AgUiRules.MAX_ID_LENGTH)
        {
            throw new Invalid("runId is longer than " + AgUiRules.MAX_ID_LENGTH + " characters");
        }
        final byte[][] payloads = new byte[events.size()][];
        for (int i = 0; i < events.size(); i++)
        {
            try
            {
                payloads[i] = Json.MAPPER.writeValueAsBytes(events.get(i));
            }
            catch (final IOException ex)
            {
                throw new Invalid("events[" + i + "] cannot be encoded");
            }
            if (payloads[i].length > maxMessageBytes)
            {
                throw new Invalid("events[" + i + "] is over " + maxMessageBytes + " bytes");
            }
        }
        return new Parsed(user, room, events, openRunId, batchKey, payloads);
    }

    /** Checks a batch against the run rules and applies it to the run state; its drafts to publish. */
    private Batch plan(final Parsed parsed) throws AgUiRules.Violation
    {
        final AgUiPlan plan = rules.check(parsed.owner, parsed.events, parsed.openRunId, parsed.batchKey,
            System.currentTimeMillis());
        final List<EventDraft> drafts = new ArrayList<>(parsed.size());
        for (int i = 0; i < parsed.size(); i++)
        {
            final EventDraft draft = new EventDraft();
            if (parsed.user != null)
            {
                draft.toUser(parsed.user);
            }
            else
            {
                draft.toRoom(parsed.room);
            }
            draft.type(AgUiVocabulary.streamType(parsed.events.get(i).get("type").asText()))
                .runId(plan.runIds[i])
                .threadId(plan.threadIds[i])
                .payload(parsed.payloads[i], 0, parsed.payloads[i].length);
            if (parsed.batchKey != null)
            {
                draft.eventId(parsed.batchKey + '/' + i);
            }
            drafts.add(draft);
        }
        return new Batch(drafts, plan);
    }

    /**
     * Checks a batch against the run rules and publishes it, answering once. Where the sequencer shares run state
     * (a cluster), the rules hold across nodes: the batch is published with its {@link RunStateGuard}, and when
     * another node changed one of its runs meanwhile it is checked again against the state the cluster answered
     * with (up to {@link #MAX_ATTEMPTS} times); a refusal by a rule is verified against the shared state before it
     * is answered. One node: checked and published at once.
     *
     * @param admit told the batch's size once it passed the rules; false refuses it (the producers' rate).
     */
    public void submit(final Parsed parsed, final Sequencer sequencer, final IntPredicate admit, final Answer answer)
    {
        attempt(parsed, sequencer, admit, answer, 1, false);
    }

    private void attempt(final Parsed parsed, final Sequencer sequencer, final IntPredicate admit, final Answer answer,
        final int attempt, final boolean admitted)
    {
        final Batch batch;
        try
        {
            batch = plan(parsed);
        }
        catch (final AgUiRules.Violation violation)
        {
            if (!sequencer.sharesRunState())
            {
                answer.refused(violation);
                return;
            }
            final RunStateGuard verify = rules.verifyGuard(parsed.owner, parsed.events, parsed.openRunId);
            sequencer.publish(List.of(), verify, result ->
            {
                if (result.refusal == Refusals.RUN_STATE_CHANGED && attempt < MAX_ATTEMPTS)
                {
                    rules.refresh(verify);
                    attempt(parsed, sequencer, admit, answer, attempt + 1, admitted);
                }
                else if (result.allAccepted() || result.refusal == Refusals.RUN_STATE_CHANGED)
                {
                    answer.refused(violation);
                }
                else
                {
                    answer.published(result); // Redis away: the refusal could not be verified
                }
            });
            return;
        }
        if (!admitted && !admit.test(parsed.size()))
        {
            rules.revert(batch.plan);
            answer.rateLimited();
            return;
        }
        if (!sequencer.sharesRunState())
        {
            sequencer.publish(batch.drafts, result ->
            {
                settle(batch, result);
                answer.published(result);
            }, answer::taken);
            return;
        }
        final RunStateGuard guard = rules.guard(batch.plan);
        sequencer.publish(batch.drafts, guard, result ->
        {
            if (result.refusal == Refusals.RUN_STATE_CHANGED)
            {
                rules.revert(batch.plan);
                rules.refresh(guard);
                if (attempt < MAX_ATTEMPTS)
                {
                    attempt(parsed, sequencer, admit, answer, attempt + 1, true);
                    return;
                }
            }
            else if (!result.allAccepted())
            {
                // Unknown what the cluster stored of it: its runs are checked against the shared state next time.
                rules.forget(batch.plan);
            }
            answer.published(result);
        });
    }

    private static final byte[] FRAME_KEY = "\"ag_ui\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** @return true when a producer-socket frame may be a native AG-UI batch (it mentions the key at all). */
    public static boolean mayBeFrame(final byte[] frame, final int length)
    {
        outer:
        for (int i = 0; i + FRAME_KEY.length <= length; i++)
        {
            for (int j = 0; j < FRAME_KEY.length; j++)
            {
                if (frame[i + j] != FRAME_KEY[j])
                {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * The sequencer answered a published batch: when it stopped at a refusal (ring full, shutting down), the run
     * state keeps exactly the events before it, so a retry from there (with the run's {@code runId}), or of the whole
     * batch with the same key, continues the run without repeating a {@code RUN_STARTED}.
     */
    public void settle(final Batch batch, final BatchResult result)
    {
        if (result.allAccepted())
        {
            return;
        }
        int prefix = 0;
        for (final EventResult event : result.results)
        {
            if (event.position < 0 && event.status != dev.agentwire.core.PublishStatus.DUPLICATE && event.status != 0)
            {
                break;
            }
            prefix++;
        }
        rules.keepPrefix(batch.plan, prefix);
    }

    private static String text(final JsonNode root, final String field) throws Invalid
    {
        final JsonNode value = root.get(field);
        if (value == null || value.isNull())
        {
            return null;
        }
        if (!value.isTextual() || value.asText().isEmpty())
        {
            throw new Invalid(field + " must be a non-empty string");
        }
        return value.asText();
    }

    /** @return the native run states, which also hold each thread's wait for answers ({@link AgUiInputGate}). */
    AgUiRules rules()
    {
        return rules;
    }
}
