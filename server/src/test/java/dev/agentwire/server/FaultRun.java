package dev.agentwire.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentwire.server.http.Json;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault suites' harness: one scenario's sessions (real clients that reconnect with their cursors, as front ends
 * do), a producer publishing throughout while the scenario injects faults, the heal, and the verdict of the
 * {@link FaultLedger}, added as a row to the report. Bounded in time: {@code agentwire.faults.seconds} per scenario.
 */
final class FaultRun
{
    static final long SECONDS = Long.getLong("agentwire.faults.seconds", 10);
    static final long SEED = Long.getLong("agentwire.faults.seed", System.nanoTime());
    private static final List<String> REPORT = new ArrayList<>();

    /** The scenario's sessions, in the order started. */
    final List<FaultSession> sessions = new ArrayList<>();
    /** Whether the producer sends a quarter of its events to rooms ({@link FaultSession#roomOf}). */
    boolean roomEvents;

    /** Writes the rows of every scenario this JVM ran to {@code target/<fileName>}, and prints them. */
    static void writeReport(final String fileName) throws Exception
    {
        final StringBuilder table = new StringBuilder()
            .append("| scenario | faults injected | acknowledged | delivered | announced lost | silently lost | ")
            .append("duplicated | reordered | foreign | caught up after |\n")
            .append("|---|---|---|---|---|---|---|---|---|---|\n");
        synchronized (REPORT)
        {
            REPORT.forEach(table::append);
        }
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", fileName), table.toString());
        System.out.println(table);
    }

    /** One fault injected (or the last one ended) by a scenario: a process killed, Redis paused, a link cut. */
    @FunctionalInterface
    interface Fault
    {
        void inject() throws Exception;
    }

    /** Stops every session. */
    void stop()
    {
        for (final FaultSession session : sessions)
        {
            session.stop();
        }
    }

    List<String> startSessions(
        final int count, final FaultLedger ledger, final java.util.function.IntFunction<Supplier<URI>> endpoint)
        throws Exception
    {
        final List<String> users = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            final String user = "fault-" + i;
            final FaultSession session = new FaultSession(user, endpoint.apply(i), ledger);
            session.connect();
            sessions.add(session);
            users.add(user);
        }
        RecordingAwait.until(() -> sessions.stream().allMatch(s -> s.epoch() > 0), 20_000, "every session welcomed");
        return users;
    }

    void killSome(final Random random, final FaultLedger ledger, final int most)
    {
        final int n = 1 + random.nextInt(most);
        for (int i = 0; i < n; i++)
        {
            sessions.get(random.nextInt(sessions.size())).kill();
        }
        ledger.fault("client killed");
    }

    /**
     * Publishes throughout (bounded: {@link #SECONDS}), injecting a fault every 300-1,300 ms; then heals, lets every
     * session catch up, and leaves the verdict to the caller.
     */
    void runWithFaults(final FaultLedger ledger, final List<String> users, final Supplier<URI> ingest,
        final Random random, final Fault injectFault) throws Exception
    {
        runWithFaults(ledger, users, ingest, random, injectFault, () -> { });
    }

    /**
     * Faults for the window, then {@code endFaults}, then the catch-up the verdict judges. A fault lasts until the next
     * one is injected; the last one ends with the window (a Redis left frozen through the catch-up would be judged as
     * losses the product never made: each node would rightly wait for it).
     */
    void runWithFaults(final FaultLedger ledger, final List<String> users, final Supplier<URI> ingest,
        final Random random, final Fault injectFault, final Fault endFaults) throws Exception
    {
        final AtomicBoolean publishing = new AtomicBoolean(true);
        final AtomicLong sent = new AtomicLong();
        final boolean rooms = roomEvents;
        final Thread producer = new Thread(() -> publish(ledger, users, ingest, publishing, sent, rooms),
            "fault-producer");
        producer.start();
        final long endNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        while (System.nanoTime() < endNs)
        {
            Thread.sleep(300 + random.nextInt(1_000));
            injectFault.inject();
        }
        endFaults.inject();
        publishing.set(false);
        producer.join(30_000);
        // Heal: every session reconnected and caught up with what was acknowledged for it, or the catch-up timed out
        // (which the verdict then shows as silent loss).
        final long healStartNs = System.nanoTime();
        final long deadlineNs = healStartNs + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadlineNs && !caughtUp(ledger))
        {
            Thread.sleep(100);
        }
        ledger.healedInMs(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - healStartNs));
    }

    boolean caughtUp(final FaultLedger ledger)
    {
        for (final FaultSession session : sessions)
        {
            // A session still on an epoch the server has left has not caught up, however far it read in it.
            if (!session.isOpen() || ledger.isBehind(session.user, session.epoch()) ||
                session.lastSeq() < ledger.highestAcknowledged(session.user, session.epoch()))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Batches of 20 events to random users (with {@code rooms}, a quarter of them to random rooms, with ids), about
     * 2,000 events per second; records each acknowledged seq, a room event's for each member.
     */
    static void publish(final FaultLedger ledger, final List<String> users, final Supplier<URI> ingest,
        final AtomicBoolean publishing, final AtomicLong sent, final boolean rooms)
    {
        final Random random = new Random(SEED + 7);
        while (publishing.get())
        {
            final StringBuilder body = new StringBuilder("[");
            for (int i = 0; i < 20; i++)
            {
                body.append(i == 0 ? "" : ",");
                if (rooms && random.nextInt(4) == 0)
                {
                    final String room = "fault-room-" + random.nextInt(FaultSession.ROOMS);
                    final long k = sent.incrementAndGet();
                    body.append("{\"room\":\"").append(room).append("\",\"id\":\"r-").append(k)
                        .append("\",\"type\":\"app.fault\",\"data\":{\"r\":\"").append(room).append("\",\"k\":")
                        .append(k).append(",\"t\":").append(System.nanoTime()).append("}}");
                    continue;
                }
                final String user = users.get(random.nextInt(users.size()));
                body.append("{\"user\":\"").append(user)
                    .append("\",\"type\":\"app.fault\",\"data\":{\"u\":\"").append(user).append("\",\"k\":")
                    .append(sent.incrementAndGet()).append(",\"t\":").append(System.nanoTime()).append("}}");
            }
            try
            {
                final HttpResponse<String> response = WsClient.HTTP.send(HttpRequest.newBuilder(ingest.get())
                    .timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + Tokens.PRODUCER_KEY)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.append(']').toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 202 || response.statusCode() == 422 || response.statusCode() == 503)
                {
                    acknowledge(ledger, Json.MAPPER.readTree(response.body()));
                }
            }
            catch (final Exception unknownOutcome)
            {
                // The server went away mid-request: nothing was acknowledged, nothing is owed.
            }
            try
            {
                Thread.sleep(10);
            }
            catch (final InterruptedException ex)
            {
                return;
            }
        }
    }

    private static void acknowledge(final FaultLedger ledger, final JsonNode answer)
    {
        final JsonNode results = answer.path("results");
        for (final JsonNode result : results)
        {
            if (!"accepted".equals(result.path("status").asText()))
            {
                continue;
            }
            for (final JsonNode seq : result.path("seqs"))
            {
                ledger.acknowledged(seq.get("user").asText(), seq.get("epoch").asLong(), seq.get("seq").asLong(),
                    result.path("index").asText());
            }
        }
    }

    void report(final String scenario, final FaultLedger ledger, final List<String> users)
    {
        final FaultLedger.Verdict v = ledger.verdict();
        final StringBuilder faults = new StringBuilder();
        ledger.faults().forEach((name, count) -> faults.append(faults.length() == 0 ? "" : ", ")
            .append(name).append(" ×").append(count));
        final String row = "| " + scenario + " | " + faults + " | " + v.acknowledged + " | " + v.delivered + " | " +
            v.announcedLost + " | " + v.silentlyLost + " | " + v.duplicated + " | " + v.reordered + " | " +
            v.foreign + " | " + ledger.healedInMs() + " ms |\n";
        synchronized (REPORT)
        {
            REPORT.add(row);
        }
        System.out.println("FAULTS seed=" + SEED + " " + row);
        if (!v.clean())
        {
            for (final FaultSession session : sessions)
            {
                if (v.examples.stream().anyMatch(e -> e.startsWith(session.user + " ")))
                {
                    System.out.println("TRACE " + session.user + ":\n  " + session.trace());
                }
            }
        }
        assertTrue(v.acknowledged > 0, "events were acknowledged");
        assertTrue(v.clean(), "seed=" + SEED + " " + row + " e.g. " + v.examples);
    }
}
