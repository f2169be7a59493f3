package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** 1 / (1 + exp(-x)), element-wise. */
public record Sigmoid() implements Op {
    @Override public int arity() { return 1; }
    @Override public Shape outputShape(Shape... in) { return in[0]; }
}
