package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** min(max(x, min), max), element-wise. */
public record Clip(float min, float max) implements Op {
    public Clip { if (min > max) throw new IllegalArgumentException("Clip: min " + min + " > max " + max); }
    @Override public int arity() { return 1; }
    @Override public Shape outputShape(Shape... in) { return in[0]; }
}
