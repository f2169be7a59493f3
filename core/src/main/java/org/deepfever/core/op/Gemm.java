package org.deepfever.core.op;

import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;

/** Fully connected layer: {@code y = x W^T + b}, x [N,K], weight [M,K] (PyTorch Linear layout), bias [M] or null. */
public record Gemm(Tensor weight, Tensor bias) implements Op {
    public Gemm {
        if (weight.rank() != 2) throw new IllegalArgumentException("Gemm weight must be [out, in], got " + weight.shape());
        if (!(bias == null || (bias.rank() == 1 && bias.dim(0) == weight.dim(0)))) throw new IllegalArgumentException("Gemm bias must be [" + weight.dim(0) + "], got " + (bias == null ? null : bias.shape()));
    }

    public int outFeatures() { return weight.dim(0); }
    public int inFeatures() { return weight.dim(1); }

    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        Op.requireRank(this, in[0], 2);
        if (in[0].dim(1) != inFeatures()) throw new IllegalArgumentException("Gemm expects " + inFeatures() + " input features, got " + in[0]);
        return Shape.of(in[0].dim(0), outFeatures());
    }

    @Override public long macs(Shape... in) { return (long) inFeatures() * outFeatures(); }
}
