package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** Copies its input. */
public record Identity() implements Op {
    @Override public int arity() { return 1; }
    @Override public Shape outputShape(Shape... in) { return in[0]; }
}
