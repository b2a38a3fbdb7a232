package dev.agentwire.server;

import dev.agentwire.core.AgentWireConfig;
import dev.agentwire.server.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault suite: a real server, many real clients that reconnect with their cursors as front ends do, a producer
 * publishing throughout, faults injected at random, and then the whole history checked by the {@link FaultLedger}:
 * every acknowledged event reached its user once and in order, or its loss was announced; nothing reached anyone
 * else. Bounded in time: {@code agentwire.faults.seconds} per scenario (short in the default build, longer with
 * {@code mvn -P faults verify}). Each scenario adds a row to {@code target/fault-report.md}. These are one node's
 * scenarios; those over Redis are {@link ClusterFaultSuiteTest}'s, and the harness is {@link FaultRun}.
 */
@Timeout(600)
final class FaultSuiteTest
{
    private static final long SECONDS = FaultRun.SECONDS;
    private static final long SEED = FaultRun.SEED;

    @TempDir
    Path dir;
    private final Closing closeables = new Closing();
    private final FaultRun run = new FaultRun();
    private final List<FaultSession> sessions = run.sessions;

    @AfterEach
    void tearDown() throws Exception
    {
        run.stop();
        closeables.close();
    }

    @AfterAll
    static void writeReport() throws Exception
    {
        FaultRun.writeReport("fault-report.md");
    }

    @Test
    void shouldLoseNothingSilentlyWhenClientsAndTheNetworkMisbehave() throws Exception
    {
        final Random random = new Random(SEED);
        final ServerFixture server = new ServerFixture(dir, b -> b.producerRatePerSec(1_000_000).producerBurst(1_000_000)
            .inboundRatePerSec(1_000).inboundBurst(1_000),
            AgentWireConfig.builder().sliceCount(2).historyMaxEvents(256));
        closeables.add(server);
        final FaultProxy proxy = new FaultProxy(server.server.port());
        closeables.add(proxy);
        final FaultLedger ledger = new FaultLedger();
        // Half the sessions connect straight, half through the bad network.
        final List<String> users = run.startSessions(60, ledger, i -> i % 2 == 0 ? () -> server.ws(null) :
            () -> URI.create("ws://127.0.0.1:" + proxy.port() + "/v1/ws"));

        run.runWithFaults(ledger, users, () -> server.http("/v1/events"), random, () ->
        {
            final int fault = random.nextInt(6);
            switch (fault)
            {
                case 0:
                    run.killSome(random, ledger, 5);
                    break;
                case 1:
                    sessions.get(random.nextInt(sessions.size())).stall(500 + random.nextInt(2_500));
                    ledger.fault("stalled reader");
                    break;
                case 2:
                    sessions.get(random.nextInt(sessions.size())).slow(random.nextInt(3) == 0 ? 5 : 0);
                    ledger.fault("slow reader");
                    break;
                case 3:
                    // A reconnect storm: every session drops and comes back at once.
                    sessions.forEach(FaultSession::kill);
                    ledger.fault("reconnect storm (60)");
                    break;
                case 4:
                    proxy.delay(random.nextInt(3) == 0 ? 0 : 5 + random.nextInt(50));
                    proxy.stall(random.nextInt(800));
                    ledger.fault("latency / stall on the link");
                    break;
                default:
                    proxy.cut();
                    ledger.fault("link cut");
                    break;
            }
        });
        proxy.delay(0);
        sessions.forEach(s -> s.slow(0));
        run.report("clients and network (single node)", ledger, users);
    }

    @Test
    void shouldAnnounceEverythingLostWhenTheServerIsKilled() throws Exception
    {
        final Random random = new Random(SEED + 1);
        final int port = TestPorts.free();
        final Path log = dir.resolve("server.log");
        final Map<String, String> env = Map.of("AGENTWIRE_PRODUCER_RATE", "1000000", "AGENTWIRE_PRODUCER_BURST", "1000000");
        final ServerProcess[] server = {ServerProcess.start(port, log, env)};
        closeables.add(() -> server[0].kill());
        final FaultLedger ledger = new FaultLedger();
        final List<String> users = run.startSessions(30, ledger, i -> server[0]::ws);

        run.runWithFaults(ledger, users, () -> server[0].http("/v1/events"), random, () ->
        {
            if (random.nextInt(3) == 0)
            {
                // SIGKILL mid-stream, and back on the same port: a new epoch, and every resume says what was lost.
                server[0].kill();
                ledger.fault("server SIGKILL + restart");
                server[0] = ServerProcess.start(port, log, env);
            }
            else
            {
                run.killSome(random, ledger, 3);
            }
        });
        run.report("server SIGKILL and restart (single node)", ledger, users);
    }

    @Test
    void shouldKeepWellBehavedUsersWholeWhileOthersAttack() throws Exception
    {
        // The server on one core, the well-behaved clients, the producer and the attackers on the other, as the
        // benchmarks measure: what is compared is the server's answer to the attack, not the attack tools' own cost.
        final int port = TestPorts.free();
        final ServerProcess server = ServerProcess.start(port, dir.resolve("server.log"), Map.of(
            "AGENTWIRE_PRODUCER_RATE", "1000000", "AGENTWIRE_PRODUCER_BURST", "1000000"), "0");
        closeables.add(server);
        // Read before pinning: once pinned, this JVM sees one processor.
        final String allCpus = ServerProcess.allCpus();
        final boolean pinned = ServerProcess.pinSelf("1");
        closeables.add(() -> ServerProcess.pinSelf(allCpus));
        final FaultLedger ledger = new FaultLedger();
        final List<String> users = run.startSessions(20, ledger, i -> server::ws);
        // Latencies are recorded in alternating windows, quiet and attacked, after a warm-up, so drift on a shared
        // machine (JIT, other processes) weighs on both alike; the moments right after an attack are not counted.
        final LatencySample quiet = new LatencySample();
        final LatencySample attacked = new LatencySample();
        final java.util.concurrent.atomic.AtomicInteger window = new java.util.concurrent.atomic.AtomicInteger();
        // 0: not counted (warm-up, and the moments right after an attack); 1: quiet; 2: under attack.
        sessions.forEach(session -> session.recordLatency(ns ->
        {
            final int now = window.get();
            if (now != 0)
            {
                (now == 2 ? attacked : quiet).add(ns);
            }
        }));

        // The attackers' material, set up before anything is measured. A history of 300 open AG-UI text messages
        // whose start events carry 20 KB each (what a prelude used to repeat whole, per connection), and 800 KB of
        // history for two users whose sockets resume from its start and never read it.
        final String extra = "y".repeat(20_000);
        for (int batch = 0; batch < 10; batch++)
        {
            final StringBuilder body = new StringBuilder("{\"user\":\"mallory\",");
            body.append(batch == 0 ? "\"events\":[{\"type\":\"RUN_STARTED\",\"threadId\":\"t\",\"runId\":\"m\"}" :
                "\"runId\":\"m\",\"events\":[{\"type\":\"STEP_STARTED\",\"stepName\":\"s" + batch + "\"}");
            for (int i = 0; i < 30; i++)
            {
                body.append(",{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"m").append(batch * 30 + i)
                    .append("\",\"role\":\"assistant\",\"extra\":\"").append(extra).append("\"}");
            }
            assertEquals(202, post(server.http("/v1/ag-ui/events"), body.append("]}").toString()));
        }
        final long pingerEpoch = backlog(server, "pinger");
        final long quitterEpoch = backlog(server, "quitter");

        final AtomicBoolean publishing = new AtomicBoolean(true);
        final Thread producer = new Thread(() -> FaultRun.publish(ledger, users, () -> server.http("/v1/events"),
            publishing, new AtomicLong(), false), "fault-producer");
        producer.start();

        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicBoolean attacking = new AtomicBoolean();
        final List<Thread> attackers = new ArrayList<>();
        final AtomicLong attacks = new AtomicLong();
        final String only = System.getProperty("agentwire.faults.attacks", "prelude,pings,closes");
        attackers.add(attacker(only.contains("prelude") ? "prelude" : null, running, attacking, attacks, () ->
        {
            // Eight cursor-less AG-UI sockets that never read, dropped and opened again.
            final List<RawWs.RawClient> open = new ArrayList<>();
            for (int i = 0; i < 8; i++)
            {
                open.add(raw(port, "/v1/ag-ui", "mallory"));
            }
            Thread.sleep(500);
            closeAll(open);
        }));
        attackers.add(attacker(only.contains("pings") ? "pings" : null, running, attacking, attacks, () ->
        {
            // Sockets that replay a history, read none of it, and ping as fast as they can until they are cut.
            final List<RawWs.RawClient> open = new ArrayList<>();
            for (int i = 0; i < 4; i++)
            {
                open.add(raw(port, "/v1/ws?epoch=" + pingerEpoch + "&after=0", "pinger"));
            }
            // Fifty pings a write: the flood reaches the server whole without the attacker's own syscalls
            // taking the clients' core (what is measured is the server's answer to the flood).
            final byte[][] pings = new byte[50][];
            java.util.Arrays.fill(pings, RawWs.RawClient.frame(0x80 | RawWs.PING, new byte[125], true));
            for (int n = 0; n < 40 && attacking.get(); n++)
            {
                for (final RawWs.RawClient client : open)
                {
                    client.sendFrames(pings);
                }
            }
            closeAll(open);
        }));
        attackers.add(attacker(only.contains("closes") ? "closes" : null, running, attacking, attacks, () ->
        {
            // Sockets that replay a history, say close(1000) and never read the answer behind it.
            final List<RawWs.RawClient> open = new ArrayList<>();
            for (int i = 0; i < 4; i++)
            {
                open.add(raw(port, "/v1/ws?epoch=" + quitterEpoch + "&after=0", "quitter"));
            }
            for (final RawWs.RawClient client : open)
            {
                client.sendClose(1000);
            }
            Thread.sleep(1_000);
            closeAll(open);
        }));
        final long windowMs = Math.max(1_500, TimeUnit.SECONDS.toMillis(SECONDS) / 8);
        Thread.sleep(2_000); // warm-up, not counted
        for (int round = 0; round < 4; round++)
        {
            window.set(1);
            Thread.sleep(windowMs);
            attacking.set(true);
            window.set(2);
            Thread.sleep(windowMs);
            attacking.set(false);
            window.set(0);
            Thread.sleep(1_500); // the last attack rounds end and their sockets close
        }
        running.set(false);
        for (final Thread attacker : attackers)
        {
            attacker.join(30_000);
        }
        publishing.set(false);
        producer.join(30_000);
        final long healStartNs = System.nanoTime();
        while (System.nanoTime() - healStartNs < TimeUnit.SECONDS.toNanos(60) && !run.caughtUp(ledger))
        {
            Thread.sleep(100);
        }
        ledger.healedInMs(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - healStartNs));
        for (long i = 0; i < attacks.get(); i++)
        {
            ledger.fault("attack rounds (AG-UI preludes unread, ping floods, closes with output pending)");
        }
        final double quietP99Ms = quiet.p99Ms();
        final double attackedP99Ms = attacked.p99Ms();
        final String p99 = String.format("well-behaved p99 quiet %.1f ms (%d events), under attack %.1f ms (%d " +
            "events), %.2fx%s", quietP99Ms, quiet.size(), attackedP99Ms, attacked.size(), attackedP99Ms / quietP99Ms,
            pinned ? ", server on core 0, clients on core 1" : ", unpinned");
        System.out.println("FAULTS " + p99);
        run.report("hostile users beside well-behaved ones (" + p99 + ")", ledger, users);
        // Integrity is asserted (report above); the latency is recorded in the report, not asserted: speed is judged
        // in benchmarks, and on this shared 2-core machine a p99 ratio is a measurement, not a pass/fail
        // (docs/RELIABILITY.md has the runs and the target, 2x, as missed).
        assertTrue(quiet.size() > 100 && attacked.size() > 100, "both phases measured");
    }

    /** Publishes 100 events of 8 KB to a user (history a socket can ask to replay). @return the user's epoch. */
    private static long backlog(final ServerProcess server, final String user) throws Exception
    {
        final StringBuilder batch = new StringBuilder("[");
        final String filler = "x".repeat(8_000);
        for (int i = 0; i < 100; i++)
        {
            batch.append(i == 0 ? "" : ",").append("{\"user\":\"").append(user).append("\",\"type\":\"app.bulk\"," +
                "\"data\":{\"fill\":\"").append(filler).append("\"}}");
        }
        final HttpResponse<String> answer = WsClient.HTTP.send(HttpRequest.newBuilder(server.http("/v1/events"))
            .header("Authorization", "Bearer " + Tokens.PRODUCER_KEY).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(batch.append(']').toString())).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(202, answer.statusCode(), answer.body());
        return Json.MAPPER.readTree(answer.body()).path("results").get(0).path("seqs").get(0).path("epoch").asLong();
    }

    private static int post(final URI uri, final String body) throws Exception
    {
        return WsClient.HTTP.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + Tokens.PRODUCER_KEY)
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    /** Publish-to-receive latencies of one phase. */
    private static final class LatencySample
    {
        private long[] ns = new long[1 << 14];
        private int size;

        synchronized void add(final long latencyNs)
        {
            if (size == ns.length)
            {
                ns = java.util.Arrays.copyOf(ns, size * 2);
            }
            ns[size++] = latencyNs;
        }

        synchronized int size()
        {
            return size;
        }

        synchronized double p99Ms()
        {
            if (size == 0)
            {
                return 0;
            }
            final long[] sorted = java.util.Arrays.copyOf(ns, size);
            java.util.Arrays.sort(sorted);
            return sorted[Math.min(size - 1, (int)Math.ceil(size * 0.99) - 1)] / 1e6;
        }
    }

    /** An attack repeated while its window lasts (bounded by the scenario's time); refusals and cuts are expected. */
    private interface Attack
    {
        void run() throws Exception;
    }

    private static Thread attacker(final String name, final AtomicBoolean running, final AtomicBoolean attacking,
        final AtomicLong rounds, final Attack attack)
    {
        final Thread thread = new Thread(() ->
        {
            while (running.get() && name != null)
            {
                if (!attacking.get())
                {
                    sleepQuietly(20);
                    continue;
                }
                try
                {
                    attack.run();
                }
                catch (final Exception refusedOrCut)
                {
                    // 429 at a cap, 4002 for a flood, a closed socket: the server's answers to an attacker
                    sleepQuietly(50);
                }
                rounds.incrementAndGet();
            }
        }, "attacker-" + (name == null ? "off" : name));
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static RawWs.RawClient raw(final int port, final String path, final String user)
        throws java.io.IOException
    {
        return RawWs.RawClient.connect(port, path, Tokens.hs256(user, 600_000), 4096, false);
    }

    private static void closeAll(final List<RawWs.RawClient> clients)
    {
        for (final RawWs.RawClient client : clients)
        {
            try
            {
                client.close();
            }
            catch (final java.io.IOException ignored)
            {
                // already gone
            }
        }
    }

    private static void sleepQuietly(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
