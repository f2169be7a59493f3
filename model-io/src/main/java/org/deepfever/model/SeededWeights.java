package org.deepfever.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.deepfever.core.Tensor;

/**
 * A full-size DeepFEVER state dict with seeded random weights, drawn like the fixtures'
 * {@code randomize_} (He-normal convs, non-trivial BatchNorm statistics) but from Java's generator,
 * so the numbers differ from PyTorch's. These are NOT trained weights: they exist so that the engine,
 * its command and its benchmarks run out of the box. No trained DeepFEVER weights are public.
 */
public final class SeededWeights {
    public static final long DEFAULT_SEED = 1234;

    private final Map<String, Tensor> out = new LinkedHashMap<>();
    private final SplittableRandom rng;
    private final int d;

    private SeededWeights(long seed, int widthDiv) {
        this.rng = new SplittableRandom(seed);
        this.d = widthDiv;
    }

    /** The real network's layout: widths as published, repeats 5, 10, 5, cut after mixed_7a. */
    public static Map<String, Tensor> fullSize(long seed) { return generate(seed, 1, new int[] {5, 10, 5}, false); }

    public static Map<String, Tensor> generate(long seed, int widthDiv, int[] repeats, boolean fullBackbone) {
        SeededWeights w = new SeededWeights(seed, widthDiv);
        w.build(repeats, fullBackbone);
        return w.out;
    }

    private void build(int[] repeats, boolean full) {
        basic("conv2d_1a", 3, c(32), 3, 3);
        basic("conv2d_2a", c(32), c(32), 3, 3);
        basic("conv2d_2b", c(32), c(64), 3, 3);
        basic("conv2d_3b", c(64), c(80), 1, 1);
        basic("conv2d_4a", c(80), c(192), 3, 3);
        basic("conv2d_4b", c(192), c(256), 3, 3);
        for (int i = 0; i < repeats[0]; i++) {
            String p = "repeat_1." + i;
            basic(p + ".branch0", c(256), c(32), 1, 1);
            basic(p + ".branch1.0", c(256), c(32), 1, 1);
            basic(p + ".branch1.1", c(32), c(32), 3, 3);
            basic(p + ".branch2.0", c(256), c(32), 1, 1);
            basic(p + ".branch2.1", c(32), c(32), 3, 3);
            basic(p + ".branch2.2", c(32), c(32), 3, 3);
            conv(p + ".conv2d", c(96), c(256), 1, 1, true);
        }
        basic("mixed_6a.branch0", c(256), c(384), 3, 3);
        basic("mixed_6a.branch1.0", c(256), c(192), 1, 1);
        basic("mixed_6a.branch1.1", c(192), c(192), 3, 3);
        basic("mixed_6a.branch1.2", c(192), c(256), 3, 3);
        for (int i = 0; i < repeats[1]; i++) {
            String p = "repeat_2." + i;
            basic(p + ".branch0", c(896), c(128), 1, 1);
            basic(p + ".branch1.0", c(896), c(128), 1, 1);
            basic(p + ".branch1.1", c(128), c(128), 1, 7);
            basic(p + ".branch1.2", c(128), c(128), 7, 1);
            conv(p + ".conv2d", c(256), c(896), 1, 1, true);
        }
        String m = "mixed_7a";
        basic(m + ".branch0.0", c(896), c(256), 1, 1);
        basic(m + ".branch0.1", c(256), c(384), 3, 3);
        basic(m + ".branch1.0", c(896), c(256), 1, 1);
        basic(m + ".branch1.1", c(256), c(256), 3, 3);
        basic(m + ".branch2.0", c(896), c(256), 1, 1);
        basic(m + ".branch2.1", c(256), c(256), 3, 3);
        basic(m + ".branch2.2", c(256), c(256), 3, 3);
        if (full) {
            for (int i = 0; i <= repeats[2]; i++) {
                String p = i < repeats[2] ? "repeat_3." + i : "block8";
                basic(p + ".branch0", c(1792), c(192), 1, 1);
                basic(p + ".branch1.0", c(1792), c(192), 1, 1);
                basic(p + ".branch1.1", c(192), c(192), 1, 3);
                basic(p + ".branch1.2", c(192), c(192), 3, 1);
                conv(p + ".conv2d", c(384), c(1792), 1, 1, true);
            }
        }
        conv("reduce.conv", c(1792), c(512), 1, 1, false);
        bn("reduce.bn", c(512));
        int growth = c(64);
        for (int i = 0; i < 5; i++) {
            String p = "dense.layers." + i;
            int cin = c(512) + i * growth;
            bn(p + ".norm1", cin);
            conv(p + ".conv1", cin, 4 * growth, 1, 1, false);
            bn(p + ".norm2", 4 * growth);
            conv(p + ".conv2", 4 * growth, growth, 3, 3, false);
        }
        conv("project.conv", c(512) + 5 * growth, c(128), 1, 1, false);
        bn("project.bn", c(128));
        linear("fec", c(128), 32);
        linear("affectnet", c(128), 8);
    }

    private int c(int channels) { return channels / d; }

    private void basic(String p, int cin, int cout, int kh, int kw) {
        conv(p + ".conv", cin, cout, kh, kw, false);
        bn(p + ".bn", cout);
    }

    private void conv(String p, int cin, int cout, int kh, int kw, boolean bias) {
        double std = Math.sqrt(2.0 / (cin * kh * kw));
        out.put(p + ".weight", Tensor.of(normal(cout * cin * kh * kw, std, 0), cout, cin, kh, kw));
        if (bias) out.put(p + ".bias", Tensor.of(normal(cout, 0.05, 0), cout));
    }

    private void bn(String p, int n) {
        out.put(p + ".weight", Tensor.of(uniform(n, 0.8, 0.4), n));
        out.put(p + ".bias", Tensor.of(normal(n, 0.1, 0), n));
        out.put(p + ".running_mean", Tensor.of(normal(n, 0.1, 0), n));
        out.put(p + ".running_var", Tensor.of(uniform(n, 0.5, 1.0), n));
    }

    private void linear(String p, int in, int outFeatures) {
        out.put(p + ".weight", Tensor.of(normal(outFeatures * in, Math.sqrt(1.0 / in), 0), outFeatures, in));
        out.put(p + ".bias", Tensor.of(normal(outFeatures, 0.05, 0), outFeatures));
    }

    private float[] normal(int n, double std, double mean) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (mean + std * gaussian());
        return a;
    }

    private float[] uniform(int n, double base, double width) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (base + width * rng.nextDouble());
        return a;
    }

    /** Box-Muller; SplittableRandom has no nextGaussian of its own before JDK 17's RandomGenerator default. */
    private double gaussian() {
        double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
