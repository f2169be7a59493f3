package org.deepfever.cuda;

import java.util.Random;
import org.deepfever.core.Tensor;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Conv2d;

/** Small test ops with seeded random parameters. */
final class Graphs {
    private Graphs() {}

    static Tensor random(long seed, int... dims) {
        Random r = new Random(seed);
        int n = 1;
        for (int d : dims) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 0.5);
        return Tensor.of(a, dims);
    }

    static Conv2d conv(int cin, int cout, int k, int stride, int pad, Activation act) {
        return Conv2d.of(random(cin * 31L + cout * 7L + k, cout, cin, k, k), random(cout, cout), stride, pad, pad, act);
    }

    static Conv2d conv1x1(int cin, int cout) { return conv(cin, cout, 1, 1, 0, Activation.RELU); }
}
