package org.deepfever.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A probe, not a benchmark of the engine: what batch 1 costs in memory traffic. At batch 1 a
 * network streams all its weights (62 MB for full-size DeepFEVER) from memory once per image. This
 * runs the engine's wide tile shape (6 pixels x 4 channel vectors, channels-last input, the Block17
 * 1x1 896 -> 128 conv at 7x7: 9 tiles per 229 KB weight panel) over a 96 MB array of panels, one
 * new panel after another as in an inference, and prints the time of each tile of a panel: the
 * first reads the panel from memory, the other eight from L2. It also prints the same panels'
 * weights read alone (vector loads, nothing else), and the tiles' rate with one panel reused (hot).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/fever-bench.jar org.deepfever.bench.PanelStreamProbe</pre>
 *
 * Measured (AMD EPYC family 26, Zen 5, 2 vCPUs of a busy shared host, 2026-12-08, 3 runs): the first
 * tile 11.1-17.5 us, each later one 3.0-3.7 us, the weights alone 21.5-25 GB/s, one hot panel
 * 215-232 GFLOP/s. The first tile is the panel's stream with the FMAs on top of it, not beside it.
 * See docs/performance-history.md, "What bounds batch 1".
 */
public final class PanelStreamProbe {
    private PanelStreamProbe() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int K = 896, PIXELS = 49, TILE = 6, TILES = (PIXELS + TILE - 1) / TILE, R = 4 * L;

    /** Prints five rounds of the three measurements (after three rounds of warm-up); takes no arguments. */
    public static void main(String[] args) {
        int panel = K * R;
        int panels = (96 << 20) / 4 / panel;
        float[] w = new float[panels * panel];
        for (int i = 0; i < w.length; i++) w[i] = (i % 5) * 0.01f;
        float[] x = new float[(PIXELS + TILE) * K];
        for (int i = 0; i < x.length; i++) x[i] = (i % 7) * 0.01f;
        float[] out = new float[R];
        System.out.printf("species %d-bit; K = %d, %d tiles of %d pixels x 4 vectors per %d KB panel, %d panels%n",
                S.vectorBitSize(), K, TILES, TILE, panel * 4 / 1024, panels);
        float warm = 0;
        for (int i = 0; i < 10_000; i++) warm += stream(w, 0, panel); // compiled before it is timed
        long[] perTile = new long[TILES];
        for (int round = 0; round < 8; round++) {
            java.util.Arrays.fill(perTile, 0);
            long c0 = System.nanoTime();
            for (int p = 0; p < panels; p++) {
                for (int q = 0; q < TILES; q++) {
                    long t0 = System.nanoTime();
                    tile(x, Math.min(q * TILE, PIXELS - TILE), w, p * panel, out);
                    perTile[q] += System.nanoTime() - t0;
                }
            }
            long c1 = System.nanoTime();
            float sum = 0;
            for (int p = 0; p < panels; p++) sum += stream(w, p * panel, panel);
            long c2 = System.nanoTime();
            for (int p = 0; p < panels; p++) {
                for (int q = 0; q < TILES; q++) tile(x, Math.min(q * TILE, PIXELS - TILE), w, 0, out);
            }
            long c3 = System.nanoTime();
            if (round < 3) continue;
            StringBuilder b = new StringBuilder("us per tile, new panels:");
            for (long t : perTile) b.append(String.format(" %.2f", t / 1e3 / panels));
            double flop = 2.0 * TILES * TILE * K * R * panels;
            System.out.printf("%s | %.1f GFLOP/s; hot panel %.1f GFLOP/s; weights alone %.1f GB/s%s%n", b,
                    flop / (c1 - c0), flop / (c3 - c2), 4.0 * panel * panels / (c2 - c1), sum == 42 ? " " : "");
        }
        System.out.println("(checksum " + (out[0] + warm) + ")");
    }

    /** Sums a panel's floats with vector loads: the read alone. */
    static float stream(float[] w, int from, int len) {
        FloatVector a = FloatVector.zero(S), b = a;
        for (int i = from, end = from + len; i < end; i += 2 * L) {
            a = a.add(FloatVector.fromArray(S, w, i));
            b = b.add(FloatVector.fromArray(S, w, i + L));
        }
        return a.add(b).reduceLanes(VectorOperators.ADD);
    }

    /** 6 pixels x 4 vectors over the whole K: pixel i, channel k at x[(p0 + i) * K + k]; weights w[wOff + k * R ..]. */
    static void tile(float[] x, int p0, float[] w, int wOff, float[] out) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z, c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        int b0 = p0 * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K, b4 = b3 + K, b5 = b4 + K;
        for (int k = 0, wi = wOff; k < K; k++, wi += R) {
            FloatVector w0 = FloatVector.fromArray(S, w, wi), w1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w2 = FloatVector.fromArray(S, w, wi + 2 * L), w3 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector a = FloatVector.broadcast(S, x[b0 + k]);
            c00 = a.fma(w0, c00); c01 = a.fma(w1, c01); c02 = a.fma(w2, c02); c03 = a.fma(w3, c03);
            a = FloatVector.broadcast(S, x[b1 + k]);
            c10 = a.fma(w0, c10); c11 = a.fma(w1, c11); c12 = a.fma(w2, c12); c13 = a.fma(w3, c13);
            a = FloatVector.broadcast(S, x[b2 + k]);
            c20 = a.fma(w0, c20); c21 = a.fma(w1, c21); c22 = a.fma(w2, c22); c23 = a.fma(w3, c23);
            a = FloatVector.broadcast(S, x[b3 + k]);
            c30 = a.fma(w0, c30); c31 = a.fma(w1, c31); c32 = a.fma(w2, c32); c33 = a.fma(w3, c33);
            a = FloatVector.broadcast(S, x[b4 + k]);
            c40 = a.fma(w0, c40); c41 = a.fma(w1, c41); c42 = a.fma(w2, c42); c43 = a.fma(w3, c43);
            a = FloatVector.broadcast(S, x[b5 + k]);
            c50 = a.fma(w0, c50); c51 = a.fma(w1, c51); c52 = a.fma(w2, c52); c53 = a.fma(w3, c53);
        }
        // one reduction keeps every accumulator live (the sum is the checksum)
        c00.add(c01).add(c02).add(c03).add(c10).add(c11).add(c12).add(c13).add(c20).add(c21).add(c22).add(c23)
                .add(c30).add(c31).add(c32).add(c33).add(c40).add(c41).add(c42).add(c43)
                .add(c50).add(c51).add(c52).add(c53).intoArray(out, 0);
    }
}
