package dev.agentwire.bench.handoff;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.util.Collection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A seconds-long smoke of the JMH harness, for CI: every benchmark runs in-process for one short iteration and
 * produces a positive score. It proves the benchmarks build and run; it measures nothing.
 */
class HandoffBenchmarkSmokeTest
{
    @Test
    @Timeout(180)
    void shouldRunEveryBenchmarkBriefly() throws Exception
    {
        final Options options = new OptionsBuilder()
            .include(HandoffBenchmark.class.getName() + "\\.")
            .forks(0)
            .warmupIterations(0)
            .measurementIterations(1)
            .measurementTime(TimeValue.milliseconds(200))
            // A small log, so that the steady-state prefill (which fills it) takes a second, not the full run's.
            .param("historyMiB", "8")
            .shouldFailOnError(true)
            .output("target/jmh-smoke.log")
            .build();
        final Collection<RunResult> results = new Runner(options).run();

        assertEquals(12, results.size());
        for (final RunResult result : results)
        {
            assertTrue(result.getPrimaryResult().getScore() > 0, result.getParams().getBenchmark());
        }
    }
}
