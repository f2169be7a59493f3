package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** max(x, 0), element-wise. */
public record Relu() implements Op {
    @Override public int arity() { return 1; }
    @Override public Shape outputShape(Shape... in) { return in[0]; }
}
