package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** {@code x / max(||x||_2, eps)} along one axis, as PyTorch's F.normalize. */
public record L2Normalize(int axis, float eps) implements Op {
    public static L2Normalize of() { return new L2Normalize(1, 1e-12f); }

    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        int ax = axis < 0 ? axis + in[0].rank() : axis;
        if (!(ax >= 0 && ax < in[0].rank())) throw new IllegalArgumentException("L2Normalize axis " + axis + " out of " + in[0]);
        return in[0];
    }
}
