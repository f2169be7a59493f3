package org.deepfever.core.op;

/** An activation applied in a kernel's epilogue. */
public enum Activation {
    NONE, RELU;

    public float apply(float x) { return this == RELU ? Math.max(x, 0f) : x; }
}
