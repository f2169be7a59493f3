package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** {@code activation(x + scale * y)} for inputs (x, y) of equal shape: the Inception-ResNet residual. */
public record ResidualAdd(float scale, Activation activation) implements Op {
    @Override public int arity() { return 2; }

    @Override
    public Shape outputShape(Shape... in) {
        if (!in[0].equals(in[1])) throw new IllegalArgumentException("ResidualAdd inputs differ: " + in[0] + " vs " + in[1]);
        return in[0];
    }
}
