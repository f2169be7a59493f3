package org.deepfever.core;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor: shape and strides (in elements) over a {@link Storage}, starting at an offset.
 * Views and slices share storage and never copy. Tensors carry no operations: kernels live in
 * backends.
 *
 * <p>Activation tensors handed to kernels are heap-backed with their trailing dimensions after the
 * first contiguous (a channel slice of an NCHW buffer keeps C,H,W contiguous within each image but
 * has a larger batch stride); {@link #batchStride()} gives it. The executor may store a value
 * channels-last instead, for kernels that declared they handle it ({@link #isChannelsLast()}).
 */
public final class Tensor {
    private final Shape shape;
    private final long[] strides;
    private final Storage storage;
    private final long offset;

    public Tensor(Shape shape, long[] strides, Storage storage, long offset) {
        if (!shape.isStatic()) throw new IllegalArgumentException("tensor shape must be static: " + shape);
        if (strides.length != shape.rank()) throw new IllegalArgumentException("strides rank != shape rank");
        this.shape = shape;
        this.strides = strides.clone();
        this.storage = Objects.requireNonNull(storage);
        this.offset = offset;
        long last = offset;
        for (int i = 0; i < shape.rank(); i++) last += (long) (shape.dim(i) - 1) * strides[i];
        if (shape.size() > 0 && (offset < 0 || last >= storage.floats())) {
            throw new IllegalArgumentException("view " + shape + " at offset " + offset + " exceeds storage of " + storage.floats() + " floats");
        }
    }

    public static Tensor zeros(int... dims) {
        Shape s = Shape.of(dims);
        return new Tensor(s, s.contiguousStrides(), new Storage.Heap(new float[Math.toIntExact(s.size())]), 0);
    }

    public static Tensor of(float[] data, int... dims) {
        Shape s = Shape.of(dims);
        if (s.size() != data.length) throw new IllegalArgumentException("shape " + s + " needs " + s.size() + " floats, got " + data.length);
        return new Tensor(s, s.contiguousStrides(), new Storage.Heap(data), 0);
    }

    /** A contiguous little-endian float32 tensor over a (typically memory-mapped) segment. */
    public static Tensor ofSegment(MemorySegment segment, int... dims) {
        Shape s = Shape.of(dims);
        if (s.size() * 4 != segment.byteSize()) {
            throw new IllegalArgumentException("shape " + s + " needs " + s.size() * 4 + " bytes, segment has " + segment.byteSize());
        }
        return new Tensor(s, s.contiguousStrides(), new Storage.Segment(segment), 0);
    }

    public Shape shape() { return shape; }
    public int dim(int i) { return shape.dim(i); }
    public int rank() { return shape.rank(); }
    public long size() { return shape.size(); }
    public long stride(int i) { return strides[i]; }
    public long[] strides() { return strides.clone(); }
    public Storage storage() { return storage; }
    public long offset() { return offset; }

    public boolean isContiguous() { return Arrays.equals(strides, shape.contiguousStrides()); }

    /** True when every dimension after the first is contiguous (see class comment). */
    public boolean isInnerContiguous() {
        long[] c = shape.contiguousStrides();
        for (int i = 1; i < c.length; i++) if (shape.dim(i) > 1 && strides[i] != c[i]) return false;
        return true;
    }

    /**
     * True for a rank-4 [N, C, H, W] view stored channels-last: each pixel's C channels consecutive
     * (channel stride 1), pixels {@link #pixelStride()} apart in row-major order (the pixel stride
     * is at least C: a channel slice of a wider channels-last buffer). A pixel stride of 1 (one
     * channel in the whole buffer) addresses exactly like NCHW and counts as NCHW.
     */
    public boolean isChannelsLast() {
        return shape.rank() == 4 && strides[1] == 1 && strides[3] > 1 && strides[3] >= shape.dim(1)
                && strides[2] == strides[3] * shape.dim(3);
    }

    /** Elements between consecutive pixels of a channels-last view ({@link #isChannelsLast()}). */
    public long pixelStride() { return strides[3]; }

    /** Elements between consecutive items of the first dimension. */
    public long batchStride() { return strides[0]; }

    public boolean isHeap() { return storage instanceof Storage.Heap; }

    /** The heap array of a heap tensor; index with {@link #arrayOffset()} and the strides. */
    public float[] array() {
        if (storage instanceof Storage.Heap h) return h.array();
        throw new IllegalStateException("tensor is not heap-backed");
    }

    public int arrayOffset() { return Math.toIntExact(offset); }

    public float get(int... idx) { return storage.get(index(idx)); }

    public void set(float v, int... idx) { storage.set(index(idx), v); }

    /** Element at a flat row-major position of this tensor's shape (any strides). */
    public float getFlat(long flat) { return storage.get(flatToIndex(flat)); }

    public void setFlat(long flat, float v) { storage.set(flatToIndex(flat), v); }

    private long flatToIndex(long flat) {
        long idx = offset;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int d = shape.dim(i);
            idx += (flat % d) * strides[i];
            flat /= d;
        }
        return idx;
    }

    private long index(int[] idx) {
        if (idx.length != shape.rank()) throw new IllegalArgumentException("index rank " + idx.length + " != " + shape.rank());
        long p = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape.dim(i)) throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " out of " + shape);
            p += idx[i] * strides[i];
        }
        return p;
    }

    /** A view of [start, start+length) along one axis. */
    public Tensor slice(int axis, int start, int length) {
        if (start < 0 || length < 0 || start + length > shape.dim(axis)) {
            throw new IndexOutOfBoundsException("slice [" + start + "," + (start + length) + ") of axis " + axis + " of " + shape);
        }
        return new Tensor(shape.withDim(axis, length), strides, storage, offset + start * strides[axis]);
    }

    /** Same storage, new shape; only for contiguous tensors. */
    public Tensor reshape(int... dims) {
        Shape s = Shape.of(dims);
        if (s.size() != shape.size()) throw new IllegalArgumentException("cannot reshape " + shape + " to " + s);
        if (!isContiguous()) throw new IllegalStateException("reshape of a non-contiguous view " + shape);
        return new Tensor(s, s.contiguousStrides(), storage, offset);
    }

    /** A contiguous heap copy (also converts segment-backed tensors). */
    public Tensor copy() {
        float[] out = toFloatArray();
        return new Tensor(shape, shape.contiguousStrides(), new Storage.Heap(out), 0);
    }

    /** Elements in row-major order, as a new array. */
    public float[] toFloatArray() {
        if (storage instanceof Storage.Heap h && offset == 0 && h.array().length == shape.size() && isContiguous()) {
            return h.array().clone(); // the whole array: clone() skips zeroing the copy
        }
        float[] out = new float[Math.toIntExact(shape.size())];
        if (isContiguous()) {
            readFlat(0, out, 0, out.length);
        } else if (isHeap() && shape.rank() > 1 && shape.dim(0) > 0 && isInnerContiguous()) {
            // A batch-strided view (a channel slice of a concat buffer): one contiguous run per item.
            int item = out.length / shape.dim(0);
            for (int b = 0; b < shape.dim(0); b++) System.arraycopy(array(), Math.toIntExact(offset + b * strides[0]), out, b * item, item);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = getFlat(i);
        }
        return out;
    }

    /**
     * Elements [from, from + len) in row-major order into {@code dst[dstOff ..]}: one bulk copy for a
     * contiguous tensor, heap or mapped (a kernel packing weights reads them a row at a time this way,
     * without a full copy of the tensor first).
     */
    public void readFlat(long from, float[] dst, int dstOff, int len) {
        if (from < 0 || len < 0 || from + len > shape.size()) {
            throw new IndexOutOfBoundsException("elements [" + from + ", " + (from + len) + ") of " + shape);
        }
        if (isHeap() && isContiguous()) {
            System.arraycopy(array(), Math.toIntExact(offset + from), dst, dstOff, len);
        } else if (storage instanceof Storage.Segment seg && isContiguous()) {
            MemorySegment.copy(seg.segment(), Storage.LE_FLOAT, (offset + from) * 4, dst, dstOff, len);
        } else {
            for (int i = 0; i < len; i++) dst[dstOff + i] = getFlat(from + i);
        }
    }

    /** Copies {@code src} (same shape, any layout) into this tensor. */
    public void copyFrom(Tensor src) {
        if (!src.shape.equals(shape)) throw new IllegalArgumentException("shape " + src.shape + " != " + shape);
        long n = shape.size();
        for (long i = 0; i < n; i++) setFlat(i, src.getFlat(i));
    }

    @Override public String toString() { return "Tensor" + shape + (isHeap() ? "" : "(mapped)"); }
}
