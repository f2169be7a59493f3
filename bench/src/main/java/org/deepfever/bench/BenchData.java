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
}
