package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** ONNX Flatten: [d0..d(axis-1)] and [d(axis)..] each collapsed into one dimension. */
public record Flatten(int axis) implements Op {
    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        int ax = axis < 0 ? axis + in[0].rank() : axis;
        if (!(ax >= 0 && ax <= in[0].rank())) throw new IllegalArgumentException("Flatten axis " + axis + " out of " + in[0]);
        int a = 1, b = 1;
        for (int d = 0; d < in[0].rank(); d++) {
            if (d < ax) a *= in[0].dim(d); else b *= in[0].dim(d);
        }
        return Shape.of(a, b);
    }
}
