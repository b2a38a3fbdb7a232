package dev.agentwire.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Turns the load tool's raw results (one JSON per peer, workload, connection count and repetition) into the
 * comparison: medians over repetitions, ratios against AgentWire measured in the same run, a Markdown table, a
 * JSON summary and one PNG per workload of p99 latency against offered rate, a line per peer.
 * <p>
 * Run: {@code java -cp benchmarks.jar dev.agentwire.bench.CompareReport RESULTS_DIR} (reads RESULTS_DIR/raw).
 */
public final class CompareReport
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DEFAULT_PEERS = "agentwire,raw,floor,ws,socketio";
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0x000000), new Color(0x7f7f7f),
        new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd)};
    /** The peer whose CPU per delivery every other is measured against: the raw NIO floor. */
    private static final String FLOOR = "raw";

    /** The offered rates where the targets compare CPU per delivery (10,000 and 20,000 deliveries/s). */
    private static int[] targetRates(final String workload)
    {
        return "room10".equals(workload) ? new int[]{1_000, 2_000} :
            "broadcast".equals(workload) ? new int[0] : new int[]{10_000, 20_000};
    }

    private CompareReport()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final Path dir = Path.of(args.length > 0 ? args[0] : "benchmarks/results/compare");
        // The peers in table order; the first is the baseline of the ratio column.
        final String[] peers = (args.length > 1 ? args[1] : DEFAULT_PEERS).split(",");
        final String baseline = peers[0];
        // case ("unicast 1000") -> peer -> runs
        final Map<String, Map<String, List<JsonNode>>> runs = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir.resolve("raw")))
        {
            for (final Path file : (Iterable<Path>)files.filter(f -> f.toString().endsWith(".json")).sorted()::iterator)
            {
                final JsonNode run = JSON.readTree(file.toFile());
                // Agent events (LoadTool --events agent) are a case of their own: "unicast+agent".
                final String events = run.has("events") ? run.get("events").asText() : EventBodies.PLAIN;
                final String key = run.get("workload").asText() +
                    (EventBodies.PLAIN.equals(events) ? "" : "+" + events) + " " + run.get("connections").asInt();
                runs.computeIfAbsent(key, k -> new TreeMap<>())
                    .computeIfAbsent(run.get("target").asText(), p -> new ArrayList<>()).add(run);
            }
        }
        final StringBuilder md = new StringBuilder();
        md.append("| workload | connections | peer | max sustainable rate (events/s, median) | ")
            .append(baseline).append(" ÷ peer | common rate | p50 / p99 ms at the common rate | ")
            .append("server CPU µs/delivery at the common rate | × raw floor | CPU µs/delivery at the target rates | ")
            .append("Redis CPU µs/event at the common rate | events read per node ÷ events offered | ")
            .append("memory per connection (KiB) | gaps / duplicates / foreign (all steps) | runs |\n")
            .append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        final ArrayNode summary = JSON.createArrayNode();
        for (final Map.Entry<String, Map<String, List<JsonNode>>> entry : runs.entrySet())
        {
            final String[] key = entry.getKey().split(" ");
            final Map<String, List<JsonNode>> byPeer = entry.getValue();
            final double agentWireMax = medianOf(byPeer.get(baseline), "maxSustainableRate");
            final int common = commonRate(byPeer);
            for (final String peer : peers)
            {
                final List<JsonNode> peerRuns = byPeer.get(peer);
                if (peerRuns == null)
                {
                    continue;
                }
                final double max = medianOf(peerRuns, "maxSustainableRate");
                final double memory = medianOf(peerRuns, "memoryPerConnectionKb");
                final double cpu = medianStepAtRate(peerRuns, common, "serverCpuMicrosPerDelivery");
                final double p99 = medianStepAtRate(peerRuns, common, "p99Ms");
                final double p50 = medianStepAtRate(peerRuns, common, "p50Ms");
                final double redis = medianStepAtRate(peerRuns, common, "redisCpuMicrosPerEvent");
                final double floorCpu = byPeer.containsKey(FLOOR) ?
                    medianStepAtRate(byPeer.get(FLOOR), common, "serverCpuMicrosPerDelivery") : -1;
                final StringBuilder atTargets = new StringBuilder();
                for (final int rate : targetRates(key[0]))
                {
                    final double at = medianStepAtRate(peerRuns, rate, "serverCpuMicrosPerDelivery");
                    atTargets.append(atTargets.length() == 0 ? "" : ", ").append(rate).append(": ")
                        .append(at >= 0 ? String.format("%.1f", at) : "–");
                }
                final long[] integrity = integrity(peerRuns);
                final String read = eventsReadPerNode(peerRuns, common);
                md.append(String.format("| %s | %s | %s | %.0f | %s | %d | %s / %s | %s | %s | %s | %s | %s | %.1f | %d / %d / %d | %d |%n",
                    key[0], key[1], peer, max,
                    max > 0 && agentWireMax > 0 ? String.format("%.2f×", agentWireMax / max) : "–",
                    common, p50 >= 0 ? String.format("%.1f", p50) : "–", p99 >= 0 ? String.format("%.1f", p99) : "–",
                    cpu >= 0 ? String.format("%.1f", cpu) : "–",
                    cpu >= 0 && floorCpu > 0 ? String.format("%.2f×", cpu / floorCpu) : "–",
                    atTargets.length() == 0 ? "–" : atTargets.toString(),
                    redis >= 0 ? String.format("%.1f", redis) : "–", read, memory, integrity[0], integrity[1],
                    integrity[2], peerRuns.size()));
                final ObjectNode row = summary.addObject();
                row.put("workload", key[0]);
                row.put("connections", Integer.parseInt(key[1]));
                row.put("peer", peer);
                row.put("maxSustainableRate", max);
                row.put("baseline", baseline);
                row.put("baselineRatio", max > 0 ? agentWireMax / max : 0);
                row.put("commonRate", common);
                row.put("p99MsAtCommonRate", p99);
                row.put("p50MsAtCommonRate", p50);
                row.put("cpuTimesRawFloor", cpu >= 0 && floorCpu > 0 ? cpu / floorCpu : -1);
                row.put("gaps", integrity[0]);
                row.put("duplicates", integrity[1]);
                row.put("foreign", integrity[2]);
                row.put("serverCpuMicrosPerDelivery", cpu);
                row.put("redisCpuMicrosPerEvent", redis);
                row.put("eventsReadPerNode", read);
                row.put("memoryPerConnectionKb", memory);
                row.put("runs", peerRuns.size());
            }
            plot(dir.resolve("p99-" + key[0] + "-" + key[1] + ".png"), entry.getKey(), byPeer, peers);
        }
        Files.writeString(dir.resolve("results.md"), md.toString());

        JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("results.json").toFile(), summary);
        System.out.print(md);
    }

    /**
     * The rate at which every peer is compared: the lowest of the peers' median maximum sustainable rates, so all
     * ran it in most repetitions; when some peer sustained no rate at all, the ladder's first rung (every run has it).
     */
    private static int commonRate(final Map<String, List<JsonNode>> byPeer)
    {
        int common = Integer.MAX_VALUE;
        int firstRung = Integer.MAX_VALUE;
        for (final List<JsonNode> peerRuns : byPeer.values())
        {
            common = (int)Math.min(common, medianOf(peerRuns, "maxSustainableRate"));
            for (final JsonNode run : peerRuns)
            {
                if (run.get("steps").size() > 0)
                {
                    firstRung = Math.min(firstRung, run.get("steps").get(0).get("rate").asInt());
                }
            }
        }
        if (common <= 0 || common == Integer.MAX_VALUE)
        {
            return firstRung == Integer.MAX_VALUE ? 0 : firstRung;
        }
        return common;
    }

    /** Gaps, duplicates and foreign events summed over every step of every run (each must be 0). */
    private static long[] integrity(final List<JsonNode> runs)
    {
        final long[] sums = new long[3];
        for (final JsonNode run : runs)
        {
            for (final JsonNode step : run.get("steps"))
            {
                sums[0] += step.path("gaps").asLong();
                sums[1] += step.path("duplicates").asLong();
                sums[2] += step.path("foreign").asLong();
            }
        }
        return sums;
    }

    /** The median over runs of one step field at a rate; -1 when no run has it (or it was not measured). */
    /** @return each node's events read ÷ events offered at a rate, from the first run that has it ("–" if none). */
    private static String eventsReadPerNode(final List<JsonNode> runs, final int rate)
    {
        for (final JsonNode run : runs)
        {
            for (final JsonNode step : run.get("steps"))
            {
                final JsonNode read = step.get("eventsReadPerNode");
                if (step.get("rate").asInt() == rate && read != null && read.size() > 0)
                {
                    final StringBuilder out = new StringBuilder();
                    for (final JsonNode node : read)
                    {
                        out.append(out.length() == 0 ? "" : " / ").append(String.format("%.2f", node.asDouble()));
                    }
                    return out.toString();
                }
            }
        }
        return "–";
    }

    private static double medianStepAtRate(final List<JsonNode> runs, final int rate, final String field)
    {
        final List<Double> values = new ArrayList<>();
        for (final JsonNode run : runs)
        {
            for (final JsonNode step : run.get("steps"))
            {
                if (step.get("rate").asInt() == rate && step.has(field) && step.get(field).asDouble() >= 0)
                {
                    values.add(step.get(field).asDouble());
                }
            }
        }
        return median(values);
    }

    private static double medianOf(final List<JsonNode> runs, final String field)
    {
        final List<Double> values = new ArrayList<>();
        if (runs != null)
        {
            for (final JsonNode run : runs)
            {
                values.add(run.get(field).asDouble());
            }
        }
        return median(values);
    }

    private static double median(final List<Double> values)
    {
        if (values.isEmpty())
        {
            return -1;
        }
        values.sort(Double::compare);
        final int n = values.size();
        return n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
    }

    private static void plot(
        final Path file, final String title, final Map<String, List<JsonNode>> byPeer, final String[] peers)
        throws IOException
    {
        System.setProperty("java.awt.headless", "true");
        final int width = 900;
        final int height = 540;
        final int left = 80;
        final int right = 170;
        final int top = 50;
        final int bottom = 60;
        // Median p99 per (peer, rate) over repetitions.
        final Map<String, TreeMap<Integer, Double>> lines = new TreeMap<>();
        double maxRate = 1;
        double maxP99 = 1;
        for (final Map.Entry<String, List<JsonNode>> peer : byPeer.entrySet())
        {
            final Map<Integer, List<Double>> perRate = new TreeMap<>();
            for (final JsonNode run : peer.getValue())
            {
                for (final JsonNode step : run.get("steps"))
                {
                    perRate.computeIfAbsent(step.get("rate").asInt(), r -> new ArrayList<>())
                        .add(step.get("p99Ms").asDouble());
                }
            }
            final TreeMap<Integer, Double> line = new TreeMap<>();
            for (final Map.Entry<Integer, List<Double>> point : perRate.entrySet())
            {
                line.put(point.getKey(), median(point.getValue()));
                maxRate = Math.max(maxRate, point.getKey());
                maxP99 = Math.max(maxP99, median(point.getValue()));
            }
            lines.put(peer.getKey(), line);
        }
        maxP99 = Math.min(maxP99, 1_000);
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("p99 publish→receive latency vs offered rate — " + title + " connections", left, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        final int plotW = width - left - right;
        final int plotH = height - top - bottom;
        g.drawRect(left, top, plotW, plotH);
        for (int i = 0; i <= 5; i++)
        {
            final int y = top + plotH - i * plotH / 5;
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(left + 1, y, left + plotW - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.0f ms", maxP99 * i / 5), 10, y + 4);
            final int x = left + i * plotW / 5;
            g.drawString(String.format("%.0f", maxRate * i / 5), x - 15, top + plotH + 18);
        }
        g.drawString("offered rate (events/s)", left + plotW / 2 - 60, height - 18);
        final int fiftyMs = top + plotH - (int)(Math.min(50, maxP99) / maxP99 * plotH);
        g.setColor(new Color(0xff9900));
        g.drawLine(left, fiftyMs, left + plotW, fiftyMs);
        g.drawString("50 ms", left + plotW + 5, fiftyMs + 4);
        int legend = top + 20;
        for (int p = 0; p < peers.length && p < COLORS.length; p++)
        {
            final TreeMap<Integer, Double> line = lines.get(peers[p]);
            if (line == null)
            {
                continue;
            }
            g.setColor(COLORS[p]);
            g.setStroke(new BasicStroke(2.2f));
            int lastX = -1;
            int lastY = -1;
            for (final Map.Entry<Integer, Double> point : line.entrySet())
            {
                final int x = left + (int)(point.getKey() / maxRate * plotW);
                final int y = top + plotH - (int)(Math.min(point.getValue(), maxP99) / maxP99 * plotH);
                g.fillOval(x - 3, y - 3, 6, 6);
                if (lastX >= 0)
                {
                    g.drawLine(lastX, lastY, x, y);
                }
                lastX = x;
                lastY = y;
            }
            g.drawLine(left + plotW + 20, legend, left + plotW + 45, legend);
            g.drawString(peers[p], left + plotW + 52, legend + 4);
            legend += 20;
        }
        g.dispose();
        ImageIO.write(image, "png", new File(file.toString()));
    }
}
