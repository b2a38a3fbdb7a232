package dev.agentwire.core;
import java.util.concurrent.atomic.*;
public class DedupBench {
    public static void main(String[] a) {
        int stripes = 64; int max = 1 << 20;
        AtomicInteger total = new AtomicInteger(); LongAdder ev = new LongAdder();
        DedupWindow[] w = new DedupWindow[stripes];
        for (int i = 0; i < stripes; i++) w[i] = new DedupWindow(60_000, max, total, ev);
        String[] users = new String[1000]; for (int i = 0; i < users.length; i++) users[i] = "load-" + i;
        String[] runs = new String[1000]; for (int i = 0; i < runs.length; i++) runs[i] = "rmx4f2a-" + i;
        int n = 4_000_000;
        String[] ids = new String[n];
        for (int i = 0; i < n; i++) ids[i] = "emx4f2a-" + i;
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime(); long now = 1_000_000 + round * 10L; int dups = 0;
            for (int i = 0; i < n; i++) {
                int u = i % 1000; DedupWindow d = w[(u * 31 + 7) & 63];
                if (d.contains((byte)1, users[u], runs[u], ids[i], now)) dups++;
                else d.add((byte)1, users[u], runs[u], ids[i], now);
            }
            long t1 = System.nanoTime();
            System.out.printf("round %d: %.1f ns per id, dups=%d total=%d evicted=%d%n", round,
                (t1 - t0) / (double)n, dups, total.get(), ev.sum());
        }
    }
}
