package dev.agentwire.server.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.core.PublishStatus;
import dev.agentwire.server.http.Http;
import dev.agentwire.server.http.Json;
import dev.agentwire.server.sequencing.Refusals;
import dev.agentwire.server.sequencing.Sequencer;
import org.agrona.DirectBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's built-in agent: answers every {@code user_message} with a realistic run — {@code agent_started},
 * streamed {@code agent_thinking} deltas over one to three seconds, one or two tool calls (sometimes in
 * parallel), {@code agent_completed} — and now and then a run whose tool fails. {@code cancel} ends a run early.
 * An arithmetic question ("What is 17*23?") goes to its calculator, which computes it ({@link DemoCalculator}): the
 * answer is {@code 17*23 = 391}. A prompt that asks it to act ("book a table") stops for the person's approval, an
 * AG-UI interrupt, and acts on the answer ({@link DemoApproval}).
 * It publishes through the gateway's publisher (the engine on one node, the cluster's sequencer on several) like a
 * producer would, on its own scheduler thread.
 */
public final class DemoAgent implements AutoCloseable
{
    /** Native AG-UI in: a batch ({@code POST /v1/ag-ui/events}'s body), and what refused it, if anything. */
    @FunctionalInterface
    public interface AgUiPublisher
    {
        /**
         * @param batch   {@code {user, runId?, events}}.
         * @param refused told the refusal's text when the batch was not stored (never when it was).
         */
        void publish(ObjectNode batch, java.util.function.Consumer<String> refused);
    }

    private static final Logger LOG = LoggerFactory.getLogger(DemoAgent.class);
    private static final String[][] TOOLS = {
        {"web_search", "query"}, {"weather", "city"}, {"calculator", "expression"}, {"calendar", "day"}};
    private static final String[] CALCULATOR = {"calculator", "expression"};

    private final Sequencer publisher;
    private final ScheduledExecutorService scheduler;
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private final AtomicLong runs = new AtomicLong();
    private final DemoApproval approval;

    /** @param publisher the sequencer the demo publishes through, like a producer would. */
    public DemoAgent(final Sequencer publisher)
    {
        this.publisher = publisher;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(task ->
        {
            final Thread thread = new Thread(task, "agentwire-demo-agent");
            thread.setDaemon(true);
            return thread;
        });
        this.approval = new DemoApproval(scheduler, cancelled);
    }

    /**
     * Where the demo's approval runs go: native AG-UI ingest (without it, a prompt that asks to act gets an ordinary
     * run).
     */
    public void agUiPublisher(final AgUiPublisher publisher)
    {
        approval.publisher(publisher);
    }

    /** The engine's inbound handler for {@code user_message}: starts a run. */
    public void onUserMessage(
        final String userId, final String type, final DirectBuffer payload, final int offset, final int length)
    {
        final JsonNode message = parse(payload, offset, length);
        final String thread = message.path("thread_id").asText("thread");
        final String prompt = message.path("data").path("text").asText("(no text)");
        // A client that names its run (an AG-UI agent's runId) gets that run; a run id is the user's own, so a
        // repeated one is refused by the engine's lifecycle, not by the demo.
        final String asked = message.path("run_id").asText("");
        final String runId = !asked.isEmpty() && asked.length() <= 128 ? asked :
            "run-" + runs.incrementAndGet() + "-" + Long.toHexString(System.nanoTime() & 0xFFFFFF);
        final JsonNode answer = DemoApproval.answerIn(message.path("data").path("input"));
        if (answer != null)
        {
            scheduler.execute(() -> approval.answer(userId, thread, runId, answer));
        }
        else if (approval.asksApproval(prompt))
        {
            scheduler.execute(() -> approval.ask(userId, thread, runId, prompt));
        }
        else
        {
            scheduler.execute(() -> new Run(userId, thread, runId, prompt).start());
        }
    }

    /** The engine's inbound handler for {@code cancel}: ends the run early. */
    public void onCancel(final String userId, final String type, final DirectBuffer payload, final int offset, final int length)
    {
        final String runId = parse(payload, offset, length).path("run_id").asText(null);
        if (runId != null)
        {
            cancelled.add(runId);
        }
    }

    private static JsonNode parse(final DirectBuffer payload, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        payload.getBytes(offset, bytes);
        try
        {
            return Json.MAPPER.readTree(bytes);
        }
        catch (final IOException ex)
        {
            return Json.MAPPER.createObjectNode();
        }
    }

    @Override
    public void close()
    {
        scheduler.shutdownNow();
    }

    /** One run, as a chain of scheduled steps. */
    private final class Run
    {
        private final String userId;
        private final String thread;
        private final String runId;
        private final String prompt;
        private final List<String> answer = new ArrayList<>();
        private final boolean failing;
        private final boolean parallel;
        private final int toolCount;
        /** An arithmetic question: the calculator is called with it, and the answer is its value. */
        private final DemoCalculator.Result arithmetic;
        private int nextWord;

        Run(final String userId, final String thread, final String runId, final String prompt)
        {
            this.userId = userId;
            this.thread = thread;
            this.runId = runId;
            this.prompt = prompt;
            final ThreadLocalRandom random = ThreadLocalRandom.current();
            arithmetic = DemoCalculator.evaluate(prompt);
            failing = arithmetic == null && random.nextInt(6) == 0;
            toolCount = arithmetic != null ? 1 : 1 + random.nextInt(2);
            parallel = toolCount == 2 && random.nextBoolean();
            final String text = "Let me think about \"" + shorten(prompt) + "\". I'll check a couple of sources, " +
                "compare what they say, and then put together a short answer for you.";
            for (final String word : text.split(" "))
            {
                answer.add(word + " ");
            }
        }

        void start()
        {
            final ObjectNode data = Http.object();
            data.put("agent", "demo-assistant");
            data.put("prompt", prompt);
            publish(EventTypes.AGENT_STARTED, null, Outcome.NONE, data);
            thinkThenTools(answer.size() / 2);
        }

        private void thinkThenTools(final int until)
        {
            if (stopIfCancelled())
            {
                return;
            }
            if (nextWord < until)
            {
                final int words = 1 + ThreadLocalRandom.current().nextInt(3);
                final StringBuilder delta = new StringBuilder();
                for (int i = 0; i < words && nextWord < until; i++)
                {
                    delta.append(answer.get(nextWord++));
                }
                final ObjectNode data = Http.object();
                data.put("text", delta.toString());
                publish(EventTypes.AGENT_THINKING, null, Outcome.NONE, data);
                later(() -> thinkThenTools(until), 80, 220);
                return;
            }
            callTools();
        }

        private void callTools()
        {
            final List<String> calls = new ArrayList<>();
            for (int i = 0; i < toolCount; i++)
            {
                final String[] tool = arithmetic != null ? CALCULATOR :
                    TOOLS[ThreadLocalRandom.current().nextInt(TOOLS.length)];
                final String callId = runId + "-call-" + (i + 1);
                final ObjectNode data = Http.object();
                data.put("tool_call_id", callId);
                data.put("tool", tool[0]);
                data.set("args", arithmetic != null ? Http.object().put(tool[1], arithmetic.expression) :
                    argsOf(tool, prompt));
                publish(EventTypes.TOOL_EXECUTING, callId, Outcome.NONE, data);
                calls.add(callId + "|" + tool[0]);
                if (!parallel)
                {
                    final int index = i;
                    later(() -> completeTool(calls.get(index), index == toolCount - 1), 250, 600);
                    return;
                }
            }
            for (int i = 0; i < calls.size(); i++)
            {
                final String call = calls.get(i);
                final boolean last = i == calls.size() - 1;
                later(() -> completeTool(call, last), 300 + 200L * i, 500 + 200L * i);
            }
        }

        private void completeTool(final String call, final boolean last)
        {
            final String callId = call.substring(0, call.indexOf('|'));
            final String tool = call.substring(call.indexOf('|') + 1);
            final ObjectNode data = Http.object();
            data.put("tool_call_id", callId);
            if (failing && last)
            {
                data.put("error", tool + " timed out after 2 s");
                publish(EventTypes.TOOL_COMPLETED, callId, Outcome.NONE, data);
                final ObjectNode done = Http.object();
                done.put("outcome", "error");
                done.put("error", "The " + tool + " tool failed, so I could not finish the answer.");
                later(() -> publish(EventTypes.AGENT_COMPLETED, null, Outcome.ERROR, done), 100, 200);
                return;
            }
            data.put("result", arithmetic != null ? arithmetic.value : resultOf(tool));
            publish(EventTypes.TOOL_COMPLETED, callId, Outcome.NONE, data);
            if (last)
            {
                later(this::finish, 80, 200);
            }
            else if (!parallel)
            {
                callNextSequential();
            }
        }

        private void callNextSequential()
        {
            // Sequential mode: the second call starts once the first completed.
            final String[] tool = TOOLS[ThreadLocalRandom.current().nextInt(TOOLS.length)];
            final String callId = runId + "-call-2";
            final ObjectNode data = Http.object();
            data.put("tool_call_id", callId);
            data.put("tool", tool[0]);
            data.set("args", argsOf(tool, prompt));
            publish(EventTypes.TOOL_EXECUTING, callId, Outcome.NONE, data);
            later(() -> completeTool(callId + "|" + tool[0], true), 250, 600);
        }

        private void finish()
        {
            if (stopIfCancelled())
            {
                return;
            }
            if (nextWord < answer.size())
            {
                final ObjectNode data = Http.object();
                data.put("text", answer.get(nextWord++));
                publish(EventTypes.AGENT_THINKING, null, Outcome.NONE, data);
                later(this::finish, 60, 160);
                return;
            }
            final ObjectNode data = Http.object();
            data.put("outcome", "success");
            data.put("result", arithmetic != null ? arithmetic.expression + " = " + arithmetic.value :
                "Here is what I found about \"" + shorten(prompt) + "\": it depends, but the sources agree on the " +
                "essentials.");
            publish(EventTypes.AGENT_COMPLETED, null, Outcome.SUCCESS, data);
        }

        private boolean stopIfCancelled()
        {
            if (!cancelled.remove(runId))
            {
                return false;
            }
            final ObjectNode data = Http.object();
            data.put("outcome", "cancelled");
            data.put("error", "cancelled by the user");
            publish(EventTypes.AGENT_COMPLETED, null, Outcome.CANCELLED, data);
            return true;
        }

        private void later(final Runnable step, final long minMs, final long maxMs)
        {
            scheduler.schedule(step, ThreadLocalRandom.current().nextLong(minMs, maxMs + 1), TimeUnit.MILLISECONDS);
        }

        private void publish(final String type, final String toolCallId, final byte outcome, final ObjectNode data)
        {
            final byte[] bytes;
            try
            {
                bytes = Json.MAPPER.writeValueAsBytes(data);
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
            // A fresh draft per event: a cluster publisher holds it until Redis has answered.
            final EventDraft draft = new EventDraft().toUser(userId).type(type).runId(runId).threadId(thread)
                .toolCallId(toolCallId).outcome(outcome).payload(bytes, 0, bytes.length);
            publisher.publish(List.of(draft), batch ->
            {
                if (!batch.allAccepted() && batch.refusal != PublishStatus.CLOSED)
                {
                    LOG.warn("demo agent publish refused: run={} type={} status={}", runId, type,
                        Refusals.name(batch.refusal));
                }
            });
        }
    }

    /** Arguments a real agent would pass: the prompt for a search, a place for the weather, and so on. */
    private static ObjectNode argsOf(final String[] tool, final String prompt)
    {
        final ObjectNode args = Http.object();
        switch (tool[0])
        {
            case "weather":
                return args.put(tool[1], placeIn(prompt));
            case "calculator":
                return args.put(tool[1], "6 * 7");
            case "calendar":
                return args.put(tool[1], "tomorrow");
            default:
                return args.put(tool[1], shorten(prompt));
        }
    }

    /** The first capitalised word after the first, trimmed of punctuation: "weather in Oslo?" gives Oslo. */
    private static String placeIn(final String prompt)
    {
        final String[] words = prompt.split("\\s+");
        for (int i = 1; i < words.length; i++)
        {
            final String word = words[i].replaceAll("[^\\p{L}-]", "");
            if (!word.isEmpty() && Character.isUpperCase(word.charAt(0)))
            {
                return word;
            }
        }
        return "Oslo";
    }

    private static String resultOf(final String tool)
    {
        switch (tool)
        {
            case "weather":
                return "12 °C, light rain, wind 4 m/s";
            case "calculator":
                return DemoCalculator.evaluate("6 * 7").value;
            case "calendar":
                return "2 meetings, first at 10:00";
            default:
                return "3 relevant pages found";
        }
    }

    static String shorten(final String text)
    {
        final String oneLine = text.replace('\n', ' ').trim();
        return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
    }
}
