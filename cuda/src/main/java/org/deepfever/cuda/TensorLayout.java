package org.deepfever.cuda;

import org.deepfever.core.Shape;

/**
 * Where a value lives on the device, as a cuDNN 4-d NCHW tensor descriptor sees it: dims, strides
 * (elements) and the element offset from the arena's base. Rank 2 and 3 values get trailing 1s
 * ([N,C] is [N,C,1,1]). A channel slice of a concat buffer has the concat's batch stride.
 */
record TensorLayout(int n, int c, int h, int w, int nStride, int cStride, int hStride, int wStride, long offset) {

    /** The 4-d dims of {@code s} (rank 2 to 4). @throws IllegalArgumentException for other ranks */
    static int[] dims4(Shape s) {
        return switch (s.rank()) {
            case 2 -> new int[] {s.dim(0), s.dim(1), 1, 1};
            case 3 -> new int[] {s.dim(0), s.dim(1), s.dim(2), 1};
            case 4 -> new int[] {s.dim(0), s.dim(1), s.dim(2), s.dim(3)};
            default -> throw new IllegalArgumentException("the cuda device handles rank 2 to 4 tensors, got " + s);
        };
    }

    /** {@code s} stored contiguously at element {@code offset}. */
    static TensorLayout packed(Shape s, long offset) {
        int[] d = dims4(s);
        return new TensorLayout(d[0], d[1], d[2], d[3], d[1] * d[2] * d[3], d[2] * d[3], d[3], 1, offset);
    }

    /** A [1,C,1,1] parameter vector (bias, batch-norm statistics) at element {@code offset}. */
    static TensorLayout channels(int c, long offset) {
        return new TensorLayout(1, c, 1, 1, c, 1, 1, 1, offset);
    }

    /** Whether the elements are contiguous (no gap between images). */
    boolean isPacked() {
        return wStride == 1 && hStride == w && cStride == h * w && nStride == c * h * w;
    }

    /** Elements in one image (C*H*W). */
    long perImage() { return (long) c * h * w; }

    /** Bytes of one image (one row of a 2-d copy). */
    long rowBytes() { return perImage() * 4; }

    /** Bytes from one image to the next (the pitch of a 2-d copy). */
    long pitchBytes() { return (long) nStride * 4; }

    /** Byte address of the first element given the arena's base address. */
    long address(long base) { return base + offset * 4; }

    /** The same layout at element offset 0 (what a cached algorithm choice depends on). */
    TensorLayout atZero() { return new TensorLayout(n, c, h, w, nStride, cStride, hStride, wStride, 0); }

    @Override public String toString() {
        return "[" + n + "," + c + "," + h + "," + w + "]/[" + nStride + "," + cStride + "," + hStride + "," + wStride + "]";
    }
}
