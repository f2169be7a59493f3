package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** Softmax along one axis (numerically stable: max subtracted first). */
public record Softmax(int axis) implements Op {
    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        int ax = axis < 0 ? axis + in[0].rank() : axis;
        if (!(ax >= 0 && ax < in[0].rank())) throw new IllegalArgumentException("Softmax axis " + axis + " out of " + in[0]);
        return in[0];
    }
}
