package org.deepfever.bench;

import java.util.SplittableRandom;
import org.deepfever.core.Tensor;

/** Seeded random tensors for the benchmarks. */
final class BenchData {
    private BenchData() {}

    /** A heap tensor of N(0, sigma^2) samples. */
    static Tensor normal(SplittableRandom rnd, float sigma, int... dims) {
        long n = 1;
        for (int d : dims) n *= d;
        float[] data = new float[Math.toIntExact(n)];
        for (int i = 0; i < data.length; i++) data[i] = (float) (rnd.nextGaussian() * sigma);
        return Tensor.of(data, dims);
    }

    /** A batch of 140x140 RGB "faces" with values uniform in [-1, 1) (seed 1), flat NCHW: the profilers' input. */
    static float[] uniformFaces(int batch) {
        float[] data = new float[batch * 3 * 140 * 140];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < data.length; i++) data[i] = (float) r.nextDouble(-1, 1);
        return data;
    }

    /** 64 MB, written by {@link #evictCaches}: more than the machine's caches hold. */
    private static float[] evictionArray;

    /**
     * Writes a line of every 64 bytes of a 64 MB array, so that whatever a benchmark touched before
     * is out of the caches (the benchmarks' {@code flush} option; not timed).
     */
    static void evictCaches() {
        if (evictionArray == null) evictionArray = new float[16 << 20];
        float v = evictionArray[0] + 1;
        for (int i = 0; i < evictionArray.length; i += 16) evictionArray[i] = v;
    }
}
