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
     * Folds this BN into the convolution that precedes it: effective weights w * scale[co] (as the
     * conv's output scale: the weight tensor, often mapped from the model file, is not copied), bias
     * b * scale + shift.
     */
    public Conv2d foldInto(Conv2d conv) {
        if (conv.outChannels() != channels()) throw new IllegalArgumentException("cannot fold BatchNorm of " + channels() + " channels into Conv2d with " + conv.outChannels() + " outputs");
        int cout = conv.outChannels();
        // Bulk reads (the parameters are often memory-mapped): same arithmetic as scale(c) and shift(c).
        float[] g = gamma.toFloatArray(), be = beta.toFloatArray(), m = mean.toFloatArray(), v = var.toFloatArray();
        float[] bias = conv.bias() == null ? null : conv.bias().toFloatArray();
        float[] s = new float[cout], nb = new float[cout];
        for (int co = 0; co < cout; co++) {
            s[co] = (float) (g[co] / Math.sqrt(v[co] + (double) eps));
            float b = bias == null ? 0f : bias[co];
            nb[co] = b * s[co] + (be[co] - m[co] * s[co]);
        }
        return conv.withOutputScale(s, Tensor.of(nb, cout));
    }
}
