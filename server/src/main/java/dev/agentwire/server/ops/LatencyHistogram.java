package dev.agentwire.server.ops;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.concurrent.atomic.LongAdder;

/**
 * A latency histogram recorded on a hot path (the delivery path, once per frame handed to a socket; a cluster node's
 * group commits, once per script call): fixed buckets of counters, so a record is a short scan and two additions,
 * and allocates nothing (Prometheus' own histogram allocated a lambda per observation wherever the JIT did not inline
 * it, which a test caught on the I/O threads). Exposed as a classic Prometheus histogram, built at scrape time.
 * Thread-safe.
 */
public final class LatencyHistogram implements Collector
{
    /** The bounds of the server's latency histograms, 100 µs to 5 s (copied by each histogram). */
    private static final double[] BOUNDS_SECONDS =
        {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

    private final String name;
    private final String help;
    private final double[] upperBoundsSeconds;
    private final long[] upperBoundsNs;
    private final LongAdder[] counts;
    private final LongAdder sumNs = new LongAdder();

    /**
     * @param name the metric's name, ending in {@code _seconds}.
     * @param help its help text.
     */
    public LatencyHistogram(final String name, final String help)
    {
        this(name, help, BOUNDS_SECONDS);
    }

    /**
     * @param name               the metric's name, ending in {@code _seconds}.
     * @param help               its help text.
     * @param upperBoundsSeconds bucket bounds, ascending; +Inf is added.
     */
    LatencyHistogram(final String name, final String help, final double... upperBoundsSeconds)
    {
        this.name = name;
        this.help = help;
        this.upperBoundsSeconds = new double[upperBoundsSeconds.length + 1];
        this.upperBoundsNs = new long[upperBoundsSeconds.length];
        for (int i = 0; i < upperBoundsSeconds.length; i++)
        {
            this.upperBoundsSeconds[i] = upperBoundsSeconds[i];
            this.upperBoundsNs[i] = (long)(upperBoundsSeconds[i] * 1e9);
        }
        this.upperBoundsSeconds[upperBoundsSeconds.length] = Double.POSITIVE_INFINITY;
        counts = new LongAdder[this.upperBoundsSeconds.length];
        for (int i = 0; i < counts.length; i++)
        {
            counts[i] = new LongAdder();
        }
    }

    /** Records one latency. Any thread; allocates nothing. */
    public void record(final long latencyNs)
    {
        int bucket = 0;
        while (bucket < upperBoundsNs.length && latencyNs > upperBoundsNs[bucket])
        {
            bucket++;
        }
        counts[bucket].increment();
        sumNs.add(Math.max(0, latencyNs));
    }

    /** @return latencies recorded so far. */
    long count()
    {
        long total = 0;
        for (final LongAdder count : counts)
        {
            total += count.sum();
        }
        return total;
    }

    @Override
    public MetricSnapshot collect()
    {
        final long[] snapshot = new long[counts.length];
        for (int i = 0; i < counts.length; i++)
        {
            snapshot[i] = counts[i].sum();
        }
        return HistogramSnapshot.builder()
            .name(name)
            .help(help)
            .unit(Unit.SECONDS)
            .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(upperBoundsSeconds, snapshot))
                .sum(sumNs.sum() / 1e9)
                .build())
            .build();
    }

    @Override
    public String getPrometheusName()
    {
        return name;
    }
}
