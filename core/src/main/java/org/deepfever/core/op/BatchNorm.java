package org.deepfever.core.op;

import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;

/** Inference batch normalisation over channel axis 1: {@code (x - mean) / sqrt(var + eps) * gamma + beta}. */
public record BatchNorm(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps) implements Op {

    public BatchNorm {
        int c = gamma.dim(0);
        for (Tensor t : new Tensor[] {gamma, beta, mean, var}) {
            Op.require(t.rank() == 1 && t.dim(0) == c, "BatchNorm parameters must all be [" + c + "], got " + t.shape());
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
        Op.require(in[0].rank() >= 2 && in[0].dim(1) == channels(), "BatchNorm expects " + channels() + " channels on axis 1, got " + in[0]);
        return in[0];
    }

    /**
     * Folds this BN into the convolution that precedes it: w' = w * scale[co], b' = b * scale + shift.
     * The result holds fresh heap weights; the input tensors are not modified.
     */
    public Conv2d foldInto(Conv2d conv) {
        Op.require(conv.outChannels() == channels(), "cannot fold BatchNorm of " + channels() + " channels into Conv2d with " + conv.outChannels() + " outputs");
        Tensor w = conv.weight();
        int cout = w.dim(0);
        int per = Math.toIntExact(w.size() / cout);
        float[] nw = w.toFloatArray();
        float[] nb = new float[cout];
        for (int co = 0; co < cout; co++) {
            float s = scale(co);
            for (int i = 0; i < per; i++) nw[co * per + i] *= s;
            float b = conv.bias() == null ? 0f : conv.bias().getFlat(co);
            nb[co] = b * s + shift(co);
        }
        return conv.withWeights(Tensor.of(nw, w.shape().dims()), Tensor.of(nb, cout));
    }
}
