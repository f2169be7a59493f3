package org.deepfever.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A probe, not a benchmark of the engine: the channel-vector register tile of the conv kernel
 * (5 pixels x 4 channel vectors, inputs broadcast from NCHW planes of a 7x7 image, K = 256, as in
 * the 7x7 residual 1x1 convs) run alone, with its weights either hot (one 64 KB panel swept again
 * and again) or cold (a new panel from a 64 MB array on every sweep, as in a real inference, which
 * streams 62 MB of weights). It separates what the micro-kernel can do on this CPU from what the
 * memory system lets it do; see the README's "Where the gap is".
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/fever-bench.jar org.deepfever.bench.TileProbe</pre>
 *
 * Measured on the project's machine kind (AMD EPYC, AVX-512, 2026-11-25): hot 110-112 GFLOP/s,
 * cold 83-90 GFLOP/s, while the engine's 7x7 layers run at ~75 in the network. In stand-alone
 * variants (not kept) a 7x3 tile (fewer weight bytes per FMA), a four-stream weight layout and a
 * tile-major panel order were no better cold. In the engine, neither this consecutive-pixel form
 * of the tile (one range check instead of five) nor blocking K over groups of tiles (each 16 KB
 * block of weights used by ten tiles) made the network faster, so the loss is not in the tile's
 * instruction stream.
 */
public final class TileProbe {
    private TileProbe() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int K = 256, PLANE = 49, TILES = 10, PIXELS = 5, VECTORS = 4;

    public static void main(String[] args) {
        int panel = K * VECTORS * L;
        int panels = Math.max(1, (64 << 20) / 4 / panel);
        float[] x = new float[K * PLANE + L];
        float[] w = new float[panels * panel + L];
        float[] tile = new float[PIXELS * VECTORS * L];
        for (int i = 0; i < x.length; i++) x[i] = (i % 7) * 0.01f;
        for (int i = 0; i < w.length; i++) w[i] = (i % 5) * 0.01f;
        int[] koff = new int[K];
        for (int i = 0; i < K; i++) koff[i] = i * PLANE;
        System.out.printf("species %d-bit, K=%d, %d tiles of %d pixels x %d vectors per panel%n",
                S.vectorBitSize(), K, TILES, PIXELS, VECTORS);
        for (int round = 0; round < 5; round++) {
            for (boolean cold : new boolean[] {false, true}) {
                int sweeps = 20_000;
                long t0 = System.nanoTime();
                for (int r = 0; r < sweeps; r++) {
                    int wOff = cold ? (r % panels) * panel : 0;
                    for (int q = 0; q < TILES; q++) tile(x, q * PIXELS, koff, w, wOff, tile);
                }
                double s = (System.nanoTime() - t0) / 1e9;
                double flop = 2.0 * PIXELS * VECTORS * L * K * TILES * sweeps;
                if (round >= 2) System.out.printf("%-4s weights: %6.1f GFLOP/s%n", cold ? "cold" : "hot", flop / s / 1e9);
            }
        }
        System.out.println("(checksum " + tile[0] + ")");
    }

    /** The 5 x 4 tile over the whole K: pixel i of plane k at x[koff[k] + p0 + i]. */
    static void tile(float[] x, int p0, int[] koff, float[] w, int wOff, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z;
        FloatVector c30 = z, c31 = z, c32 = z, c33 = z, c40 = z, c41 = z, c42 = z, c43 = z;
        for (int kk = 0, wi = wOff; kk < K; kk++, wi += VECTORS * L) {
            int b = koff[kk] + p0;
            FloatVector w0 = FloatVector.fromArray(S, w, wi), w1 = FloatVector.fromArray(S, w, wi + L);
            FloatVector w2 = FloatVector.fromArray(S, w, wi + 2 * L), w3 = FloatVector.fromArray(S, w, wi + 3 * L);
            FloatVector a = FloatVector.broadcast(S, x[b]);
            c00 = a.fma(w0, c00); c01 = a.fma(w1, c01); c02 = a.fma(w2, c02); c03 = a.fma(w3, c03);
            a = FloatVector.broadcast(S, x[b + 1]);
            c10 = a.fma(w0, c10); c11 = a.fma(w1, c11); c12 = a.fma(w2, c12); c13 = a.fma(w3, c13);
            a = FloatVector.broadcast(S, x[b + 2]);
            c20 = a.fma(w0, c20); c21 = a.fma(w1, c21); c22 = a.fma(w2, c22); c23 = a.fma(w3, c23);
            a = FloatVector.broadcast(S, x[b + 3]);
            c30 = a.fma(w0, c30); c31 = a.fma(w1, c31); c32 = a.fma(w2, c32); c33 = a.fma(w3, c33);
            a = FloatVector.broadcast(S, x[b + 4]);
            c40 = a.fma(w0, c40); c41 = a.fma(w1, c41); c42 = a.fma(w2, c42); c43 = a.fma(w3, c43);
        }
        // one reduction keeps every accumulator live (the sum is the checksum)
        c00.add(c01).add(c02).add(c03).add(c10).add(c11).add(c12).add(c13).add(c20).add(c21).add(c22).add(c23)
                .add(c30).add(c31).add(c32).add(c33).add(c40).add(c41).add(c42).add(c43).intoArray(tile, 0);
    }
}
