package org.deepfever.kernels.reference;

import org.deepfever.core.Tensor;

/**
 * Plain strided addressing of heap tensors for the reference kernels: the array index of an element
 * given its row-major flat position (any strides, so any view, including batch-strided slices).
 */
final class Strided {
    private Strided() {}

    /** Array index of the element at row-major position {@code flat} of {@code t}'s shape. */
    static int index(Tensor t, long flat) {
        long idx = t.offset();
        for (int i = t.rank() - 1; i >= 0; i--) {
            int d = t.dim(i);
            idx += (flat % d) * t.stride(i);
            flat /= d;
        }
        return Math.toIntExact(idx);
    }

    /** Array index of the element at the given multi-index. */
    static int index(Tensor t, int[] idx) {
        long p = t.offset();
        for (int i = 0; i < idx.length; i++) p += (long) idx[i] * t.stride(i);
        return Math.toIntExact(p);
    }

    /** Row-major multi-index of {@code flat} in {@code dims}, written into {@code out}. */
    static void unflatten(int[] dims, long flat, int[] out) {
        for (int i = dims.length - 1; i >= 0; i--) {
            out[i] = (int) (flat % dims[i]);
            flat /= dims[i];
        }
    }

    static int normAxis(int axis, int rank) { return axis < 0 ? axis + rank : axis; }
}
