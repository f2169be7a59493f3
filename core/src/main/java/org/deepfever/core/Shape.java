package org.deepfever.core;

import java.util.Arrays;

/** An immutable tensor shape. Dimension -1 marks a dynamic size (the batch) in graph signatures. */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        for (int d : dims) {
            if (d < -1) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
        }
        return new Shape(dims.clone());
    }

    public int rank() { return dims.length; }

    public int dim(int i) { return dims[i < 0 ? dims.length + i : i]; }

    public int[] dims() { return dims.clone(); }

    public boolean isStatic() {
        for (int d : dims) if (d < 0) return false;
        return true;
    }

    /** Number of elements; throws for a dynamic shape. */
    public long size() {
        long n = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalStateException("dynamic shape " + this + " has no size");
            n *= d;
        }
        return n;
    }

    /** Row-major (C order) strides in elements. */
    public long[] contiguousStrides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(dims[i], 1);
        }
        return s;
    }

    public Shape withDim(int i, int value) {
        int[] d = dims.clone();
        d[i] = value;
        return new Shape(d);
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }
    @Override public int hashCode() { return Arrays.hashCode(dims); }
    @Override public String toString() { return Arrays.toString(dims); }
}
