package org.deepfever.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deepfever.core.Tensor;

/** Max-abs-difference assertions that report where the worst element is. */
final class Compare {
    private Compare() {}

    static double maxAbsDiff(Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape().dims(), actual.shape().dims(), "shape");
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        double worst = 0;
        for (int i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs((double) e[i] - a[i]));
        return worst;
    }

    static double maxAbs(Tensor t) {
        double m = 0;
        for (float v : t.toFloatArray()) m = Math.max(m, Math.abs(v));
        return m;
    }

    static void assertClose(String what, Tensor expected, Tensor actual, double tolerance) {
        double d = maxAbsDiff(expected, actual);
        assertTrue(d <= tolerance, what + ": max |engine - PyTorch| = " + d + " > " + tolerance);
    }
}
