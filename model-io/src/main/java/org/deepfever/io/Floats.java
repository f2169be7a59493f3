package org.deepfever.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;

/** Element types and their conversion from raw bytes to float32 tensors. */
final class Floats {
    private Floats() {}

    /** The element types the readers know; only F32/F16/BF16 become tensors. */
    enum DType {
        F32(4, "float32"), F16(2, "float16"), BF16(2, "bfloat16"), F64(8, "float64"),
        I64(8, "int64"), I32(4, "int32"), I16(2, "int16"), I8(1, "int8"), U8(1, "uint8"), BOOL(1, "bool"),
        OTHER(1, "other");

        final int size;
        final String label;

        DType(int size, String label) {
            this.size = size;
            this.label = label;
        }

        boolean isFloat() { return this == F32 || this == F16 || this == BF16; }

        boolean isIntegral() { return this == I64 || this == I32 || this == I16 || this == I8 || this == U8 || this == BOOL; }
    }

    /** Converts {@code count} elements of {@code type} starting at byte 0 of {@code src} to float32. */
    static float[] toFloats(MemorySegment src, DType type, long count, ByteOrder order) {
        float[] out = new float[Math.toIntExact(count)];
        switch (type) {
            case F32 -> {
                ValueLayout.OfFloat l = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order);
                MemorySegment.copy(src, l, 0, out, 0, out.length);
            }
            case F16 -> {
                ValueLayout.OfShort l = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order);
                for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(src.getAtIndex(l, i));
            }
            case BF16 -> {
                ValueLayout.OfShort l = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order);
                for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat((src.getAtIndex(l, i) & 0xffff) << 16);
            }
            case F64 -> {
                ValueLayout.OfDouble l = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order);
                for (int i = 0; i < out.length; i++) out[i] = (float) src.getAtIndex(l, i);
            }
            default -> throw new IllegalArgumentException("not a float type: " + type);
        }
        return out;
    }

    /** Elements in the product of the dims, or -1 on overflow past Long.MAX_VALUE. */
    static long numel(long[] dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) return -1;
            try { n = Math.multiplyExact(n, d); } catch (ArithmeticException e) { return -1; }
        }
        return n;
    }

    /** The dims as ints (Shape's type), or null when one does not fit. */
    static int[] intDims(long[] dims) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) return null;
            out[i] = (int) dims[i];
        }
        return out;
    }

    /** Byte count of {@code numel} elements of {@code type}, or -1 on overflow. */
    static long bytes(long numel, DType type) {
        if (numel < 0) return -1;
        try { return Math.multiplyExact(numel, type.size); } catch (ArithmeticException e) { return -1; }
    }

    /**
     * A contiguous float32 tensor of {@code dims} from {@code bytes} (exactly numel elements of
     * {@code type}): mapped when float32 little-endian, converted to a heap array otherwise.
     */
    static Tensor tensor(MemorySegment bytes, DType type, int[] dims, ByteOrder order) {
        if (type == DType.F32 && order == ByteOrder.LITTLE_ENDIAN) return Tensor.ofSegment(bytes, dims);
        long n = Shape.of(dims).size();
        return Tensor.of(toFloats(bytes, type, n, order), dims);
    }
}
