package dev.agentwire.bench;

import dev.agentwire.producer.AgentWireProducer;
import dev.agentwire.producer.ProducerConfig;
import dev.agentwire.producer.ProducerEvent;
import dev.agentwire.producer.Published;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * How fast one JVM process publishes through the producer client, batched against unbatched, and its CPU per event
 * (the Python SDK's figure, for the JVM: clients/python/bench/publish_rate.py).
 * <pre>
 * AGENTWIRE_PRODUCER_KEY=… taskset -c 1 java -cp benchmarks/target/benchmarks.jar \
 *     dev.agentwire.bench.ProducerClientRate http://127.0.0.1:8080 [events] [rounds]
 * </pre>
 * Unbatched: each publish waited for before the next (one event per request or frame). Batched: all in flight at
 * once, grouped by the client (linger 2 ms, up to 500 per batch). Over HTTP and the producer socket, interleaved,
 * {@code rounds} times after one warm-up round; medians. 200-byte payloads to 100 users.
 */
public final class ProducerClientRate
{
    private static final Map<String, String> PAYLOAD = Map.of("text", "x".repeat(188));

    private ProducerClientRate()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String url = args.length > 0 ? args[0] : "http://127.0.0.1:8080";
        final int events = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        final int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        final String key = System.getenv("AGENTWIRE_PRODUCER_KEY");
        final String[] modes = {"unbatched http", "batched http", "unbatched socket", "batched socket"};
        final double[][] rates = new double[modes.length][rounds];
        final double[][] cpus = new double[modes.length][rounds];
        for (int round = -1; round < rounds; round++)
        {
            for (int m = 0; m < modes.length; m++)
            {
                final boolean batched = modes[m].startsWith("batched");
                final int count = batched ? events : events / 10;
                final ProducerConfig config = ProducerConfig.builder(url, key)
                    .transport(modes[m].endsWith("socket") ? ProducerConfig.Transport.SOCKET :
                        ProducerConfig.Transport.HTTP)
                    .lingerMs(batched ? 2 : 0).maxBatchEvents(batched ? 500 : 1).maxInFlight(5_000).build();
                try (AgentWireProducer producer = AgentWireProducer.connect(config))
                {
                    final long cpu0 = cpuNs();
                    final long t0 = System.nanoTime();
                    final List<CompletableFuture<Published>> answers = new ArrayList<>(batched ? count : 0);
                    for (int n = 0; n < count; n++)
                    {
                        final ProducerEvent event = ProducerEvent.toUser("bench-" + (n % 100)).type("app.bench")
                            .data(PAYLOAD);
                        if (batched)
                        {
                            answers.add(producer.publish(event));
                        }
                        else
                        {
                            producer.publishAndWait(event);
                        }
                    }
                    CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0])).get();
                    final long wallNs = System.nanoTime() - t0;
                    if (round >= 0)
                    {
                        rates[m][round] = count / (wallNs / 1e9);
                        cpus[m][round] = (cpuNs() - cpu0) / 1e3 / count;
                    }
                }
            }
        }
        System.out.println("| mode | transport | events/s (median) | client CPU µs per event (median) |");
        System.out.println("|---|---|---|---|");
        for (int m = 0; m < modes.length; m++)
        {
            final String[] words = modes[m].split(" ");
            System.out.printf("| %s | %s | %,.0f | %.1f |%n", words[0], words[1], median(rates[m]), median(cpus[m]));
        }
    }

    private static long cpuNs()
    {
        return ((com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    }

    private static double median(final double[] values)
    {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
