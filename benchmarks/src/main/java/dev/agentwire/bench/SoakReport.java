package dev.agentwire.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The soak's report from one LoadTool result of equal steps ({@code benchmarks/soak.sh}): the server's heap in use,
 * its PSS and the p99 of each step against time, plotted as {@code soak-<label>.png}, and {@code soak-<label>.md}
 * with the samples each minute and what grew. "Grew" is measured, not judged: the least-squares slope of each series
 * over the run's second half (after warm-up and the history filling), and the last minute against the second.
 * <p>
 * Usage: {@code SoakReport <result.json> <out-dir> <step-seconds>}
 */
public final class SoakReport
{
    private SoakReport()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        System.setProperty("java.awt.headless", "true");
        final JsonNode result = new ObjectMapper().readTree(new File(args[0]));
        final Path out = Path.of(args[1]);
        final int stepSeconds = Integer.parseInt(args[2]);
        final String label = result.get("target").asText();
        final List<double[]> samples = new ArrayList<>(); // {minutes, heap MiB, pss MiB, p99 ms}
        int step = 0;
        long gaps = 0;
        long duplicates = 0;
        long foreign = 0;
        double delivered = 1;
        for (final JsonNode s : result.get("steps"))
        {
            step++;
            samples.add(new double[]{step * stepSeconds / 60.0, s.get("serverHeapUsedKb").asLong() / 1024.0,
                s.get("serverPssKb").asLong() / 1024.0, s.get("p99Ms").asDouble()});
            gaps += s.get("gaps").asLong();
            duplicates += s.get("duplicates").asLong();
            foreign += s.get("foreign").asLong();
            delivered = Math.min(delivered, s.get("deliveredRatio").asDouble());
        }
        Files.createDirectories(out);
        plot(out.resolve("soak-" + label + ".png"), label, result, samples);

        final StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "# Soak: %s, %d connections, %s events/s, %d steps of %d s%n%n", label,
            result.get("connections").asInt(), result.get("steps").get(0).get("rate").asText(), samples.size(),
            stepSeconds));
        md.append("| minute | heap in use (MiB) | PSS (MiB) | p99 (ms) |\n|---|---|---|---|\n");
        final int perMinute = Math.max(1, 60 / stepSeconds);
        for (int i = perMinute - 1; i < samples.size(); i += perMinute)
        {
            final double[] s = samples.get(i);
            md.append(String.format(Locale.ROOT, "| %.0f | %.0f | %.0f | %.1f |%n", s[0], s[1], s[2], s[3]));
        }
        md.append(String.format(Locale.ROOT, "%nOver the second half (least-squares slope): heap %+.2f MiB/min, " +
                "PSS %+.2f MiB/min, p99 %+.2f ms/min.%n", slope(samples, 1), slope(samples, 2), slope(samples, 3)));
        md.append(String.format(Locale.ROOT, "Last minute against the second (means): heap %.0f -> %.0f MiB, " +
                "PSS %.0f -> %.0f MiB, p99 %.1f -> %.1f ms.%n", mean(samples, 1, 1, perMinute),
            mean(samples, 1, samples.size() / perMinute - 1, perMinute), mean(samples, 2, 1, perMinute),
            mean(samples, 2, samples.size() / perMinute - 1, perMinute), mean(samples, 3, 1, perMinute),
            mean(samples, 3, samples.size() / perMinute - 1, perMinute)));
        md.append(String.format(Locale.ROOT, "Integrity over the run: %d gaps, %d duplicates, %d foreign; lowest " +
            "delivered ratio of a step %.4f.%n", gaps, duplicates, foreign, delivered));
        Files.writeString(out.resolve("soak-" + label + ".md"), md);
        System.out.print(md);
    }

    private static double slope(final List<double[]> samples, final int column)
    {
        final int from = samples.size() / 2;
        final int n = samples.size() - from;
        if (n < 2)
        {
            return 0;
        }
        double sx = 0;
        double sy = 0;
        for (int i = from; i < samples.size(); i++)
        {
            sx += samples.get(i)[0];
            sy += samples.get(i)[column];
        }
        final double mx = sx / n;
        final double my = sy / n;
        double sxy = 0;
        double sxx = 0;
        for (int i = from; i < samples.size(); i++)
        {
            final double dx = samples.get(i)[0] - mx;
            sxy += dx * (samples.get(i)[column] - my);
            sxx += dx * dx;
        }
        return sxx == 0 ? 0 : sxy / sxx;
    }

    /** @return the mean of {@code column} over minute {@code minute} (0-based). */
    private static double mean(final List<double[]> samples, final int column, final int minute, final int perMinute)
    {
        double sum = 0;
        int n = 0;
        for (int i = Math.max(0, minute * perMinute); i < Math.min(samples.size(), (minute + 1) * perMinute); i++)
        {
            sum += samples.get(i)[column];
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static void plot(final Path file, final String label, final JsonNode result, final List<double[]> samples)
        throws IOException
    {
        final XYSeries heap = new XYSeries("heap in use");
        final XYSeries pss = new XYSeries("PSS");
        final XYSeries p99 = new XYSeries("p99");
        for (final double[] s : samples)
        {
            if (s[1] >= 0)
            {
                heap.add(s[0], s[1]);
            }
            pss.add(s[0], s[2]);
            p99.add(s[0], s[3]);
        }
        final XYSeriesCollection memory = new XYSeriesCollection();
        memory.addSeries(heap);
        memory.addSeries(pss);
        final XYPlot memoryPlot = new XYPlot(memory, null, new NumberAxis("MiB"), new XYLineAndShapeRenderer(true,
            true));
        ((NumberAxis)memoryPlot.getRangeAxis()).setAutoRangeIncludesZero(true);
        final XYPlot latencyPlot = new XYPlot(new XYSeriesCollection(p99), null, new NumberAxis("p99 (ms)"),
            new XYLineAndShapeRenderer(true, true));
        ((NumberAxis)latencyPlot.getRangeAxis()).setAutoRangeIncludesZero(true);
        final CombinedDomainXYPlot plot = new CombinedDomainXYPlot(new NumberAxis("minutes"));
        plot.add(memoryPlot, 2);
        plot.add(latencyPlot, 1);
        final JFreeChart chart = new JFreeChart(String.format(Locale.ROOT, "Soak: %s, %d connections, %s events/s",
            label, result.get("connections").asInt(), result.get("steps").get(0).get("rate").asText()),
            JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 1000, 640);
    }
}
