package dev.agentwire.example;

import dev.agentwire.core.AgentEvent;
import dev.agentwire.core.AgentWire;
import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.core.EventDraft;
import dev.agentwire.core.EventTypes;
import dev.agentwire.core.Outcome;
import dev.agentwire.core.PublishStatus;
import dev.agentwire.core.SubscriberListener;
import dev.agentwire.core.Subscription;
import dev.agentwire.core.SubscriptionHandler;

import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Embedding AgentWire in a JVM agent runtime: publish a full agent run for two users, and print what each user's
 * subscriber received. Uses only the public API of {@code dev.agentwire.core}.
 * <p>
 * Run: {@code mvn -q -pl core test-compile exec:exec@example}
 */
public final class EmbeddedExample
{
    private EmbeddedExample()
    {
    }

    public static void main(final String[] args) throws InterruptedException
    {
        run(System.out);
    }

    /** A connection of a user: prints what it receives, and counts down when a run completes. */
    static final class PrintingSubscriber implements SubscriberListener, SubscriptionHandler
    {
        private final String name;
        private final PrintStream out;
        private final CountDownLatch runCompleted = new CountDownLatch(1);

        PrintingSubscriber(final String name, final PrintStream out)
        {
            this.name = name;
            this.out = out;
        }

        @Override
        public void onAvailable(final Subscription subscription)
        {
            // A real transport schedules the drain on its I/O thread; this example drains at once.
            while (subscription.poll(this, 64) == 64)
            {
                // more to read
            }
        }

        @Override
        public void onClosed(final Subscription subscription, final int reason)
        {
            out.println(name + " cut: reason=" + reason);
        }

        @Override
        public void onWelcome(final String userId, final long epoch, final long lastSeq)
        {
            out.println(name + " welcome user=" + userId + " seq=" + lastSeq);
        }

        @Override
        public void onResumed(final boolean recovered, final long epoch, final long fromSeq, final long toSeq)
        {
            out.println(name + " resumed recovered=" + recovered + " from=" + fromSeq + " to=" + toSeq);
        }

        @Override
        public void onEvent(final AgentEvent event)
        {
            synchronized (out)
            {
                out.println(name + " #" + event.seq() + " " + event.type() + " run=" + event.runId() + " " +
                    event.payloadAsString());
            }
            if (EventTypes.AGENT_COMPLETED.equals(event.type()))
            {
                runCompleted.countDown();
            }
        }

        @Override
        public void onJoined(final String room)
        {
            out.println(name + " joined " + room);
        }

        @Override
        public void onLeft(final String room)
        {
            out.println(name + " left " + room);
        }

        @Override
        public void onClosed(final int reason)
        {
            out.println(name + " closed");
        }
    }

    static void run(final PrintStream out) throws InterruptedException
    {
        final AgentWireConfig config = AgentWireConfig.builder().sliceCount(2).build();
        try (AgentWire wire = AgentWire.start(config))
        {
            final PrintingSubscriber alice = new PrintingSubscriber("alice", out);
            final PrintingSubscriber bob = new PrintingSubscriber("bob", out);
            final Subscription aliceSubscription = wire.subscribe("alice", alice);
            final Subscription bobSubscription = wire.subscribe("bob", bob);

            final EventDraft draft = new EventDraft();
            publishRun(wire, draft, "alice", "run-alice-1", "What is the weather in Oslo?");
            publishRun(wire, draft, "bob", "run-bob-1", "Summarise my inbox");

            if (!alice.runCompleted.await(5, TimeUnit.SECONDS) || !bob.runCompleted.await(5, TimeUnit.SECONDS))
            {
                throw new IllegalStateException("runs did not complete within 5 s");
            }
            aliceSubscription.close();
            bobSubscription.close();
            out.println(wire.stats());
        }
    }

    private static void publishRun(
        final AgentWire wire, final EventDraft d, final String user, final String run, final String prompt)
    {
        check(wire.publish(d.reset().toUser(user).type(EventTypes.AGENT_STARTED).runId(run).threadId("thread-1")
            .payload("{\"agent\":\"assistant\",\"prompt\":\"" + prompt + "\"}")));
        check(wire.publish(d.reset().toUser(user).type(EventTypes.AGENT_THINKING).runId(run)
            .payload("{\"text\":\"Let me look that up.\"}")));
        check(wire.publish(d.reset().toUser(user).type(EventTypes.TOOL_EXECUTING).runId(run).toolCallId("call-1")
            .payload("{\"tool_call_id\":\"call-1\",\"tool\":\"search\",\"args\":{\"q\":\"" + prompt + "\"}}")));
        check(wire.publish(d.reset().toUser(user).type(EventTypes.TOOL_COMPLETED).runId(run).toolCallId("call-1")
            .payload("{\"tool_call_id\":\"call-1\",\"result\":\"3 results\"}")));
        check(wire.publish(d.reset().toUser(user).type(EventTypes.AGENT_COMPLETED).runId(run)
            .outcome(Outcome.SUCCESS).payload("{\"outcome\":\"success\",\"result\":\"Done.\"}")));
    }

    private static void check(final long status)
    {
        if (!PublishStatus.isAccepted(status))
        {
            throw new IllegalStateException("publish refused: status=" + PublishStatus.name(status));
        }
    }
}
