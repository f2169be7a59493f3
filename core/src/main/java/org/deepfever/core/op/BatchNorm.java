package org.deepfever.core.op;

import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;

/** Inference batch normalisation over channel axis 1: {@code (x - mean) / sqrt(var + eps) * gamma + beta}. */
public record BatchNorm(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps) implements Op {

    public BatchNorm {
        int c = gamma.dim(0);
        for (Tensor t : new Tensor[] {gamma, beta, mean, var}) {
            if (!(t.rank() == 1 && t.dim(0) == c)) throw new IllegalArgumentException("BatchNorm parameters must all be [" + c + "], got " + t.shape());
        }
    }

    public int channels() { return gamma.dim(0); }

    /** Per-channel multiplier gamma / sqrt(var + eps). */
    public float scale(int c) { return (float) (gamma.getFlat(c) / Math.sqrt(var.getFlat(c) + (double) eps)); }

    /** Per-channel addend beta - mean * scale. */
    public float shift(int c) { return beta.getFlat(c) - mean.getFlat(c) * scale(c); }

    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        if (!(in[0].rank() >= 2 && in[0].dim(1) == channels())) throw new IllegalArgumentException("BatchNorm expects " + channels() + " channels on axis 1, got " + in[0]);
        return in[0];
    }

    /**
     * Folds this BN into the convolution that precedes it: w' = w * scale[co], b' = b * scale + shift.
     * The result holds fresh heap weights; the input tensors are not modified.
     */
    public Conv2d foldInto(Conv2d conv) {
        if (conv.outChannels() != channels()) throw new IllegalArgumentException("cannot fold BatchNorm of " + channels() + " channels into Conv2d with " + conv.outChannels() + " outputs");
        Tensor w = conv.weight();
        int cout = w.dim(0);
        int per = Math.toIntExact(w.size() / cout);
        // Bulk reads (the parameters are often memory-mapped): same arithmetic as scale(c) and shift(c).
        float[] g = gamma.toFloatArray(), be = beta.toFloatArray(), m = mean.toFloatArray(), v = var.toFloatArray();
        float[] bias = conv.bias() == null ? null : conv.bias().toFloatArray();
        float[] nw = w.toFloatArray();
        float[] nb = new float[cout];
        for (int co = 0; co < cout; co++) {
            float s = (float) (g[co] / Math.sqrt(v[co] + (double) eps));
            scaleRange(nw, co * per, per, s);
            float b = bias == null ? 0f : bias[co];
            nb[co] = b * s + (be[co] - m[co] * s);
        }
        return conv.withWeights(Tensor.of(nw, w.shape().dims()), Tensor.of(nb, cout));
    }

    /** {@code a[from .. from+n) *= s}: a small method of its own so that the JIT compiles it early. */
    private static void scaleRange(float[] a, int from, int n, float s) {
        for (int i = from, end = from + n; i < end; i++) a[i] *= s;
    }
}
