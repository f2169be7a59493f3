package org.deepfever.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** Tensor.readFlat: the same elements from heap, mapped (segment) and strided storage. */
class TensorTest {
    private static float[] iota(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i + 0.5f;
        return a;
    }

    @Test
    void readFlatCopiesARunOfElementsInRowMajorOrder() {
        float[] data = iota(2 * 3 * 4);
        Tensor heap = Tensor.of(data, 2, 3, 4);
        // the same floats behind an offset, in a heap array with other data around them
        float[] padded = new float[data.length + 7];
        System.arraycopy(data, 0, padded, 5, data.length);
        Tensor offsetHeap = new Tensor(Shape.of(2, 3, 4), Shape.of(2, 3, 4).contiguousStrides(), new Storage.Heap(padded), 5);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(data.length * 4L);
            for (int i = 0; i < data.length; i++) seg.setAtIndex(Storage.LE_FLOAT, i, data[i]);
            Tensor mapped = Tensor.ofSegment(seg, 2, 3, 4);
            for (Tensor t : new Tensor[] {heap, offsetHeap, mapped}) {
                float[] got = new float[9];
                t.readFlat(13, got, 2, 6);
                float[] want = new float[9];
                System.arraycopy(data, 13, want, 2, 6);
                assertArrayEquals(want, got, t.toString());
            }
        }
        // a strided view: the rows of a [4, 6] array's columns 1..3
        Tensor view = Tensor.of(iota(24), 4, 6).slice(1, 1, 3);
        float[] got = new float[5];
        view.readFlat(2, got, 0, 5);
        assertArrayEquals(new float[] {3.5f, 7.5f, 8.5f, 9.5f, 13.5f}, got);
    }

    @Test
    void readFlatOutsideTheTensorIsRefused() {
        Tensor t = Tensor.of(iota(6), 2, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> t.readFlat(4, new float[3], 0, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> t.readFlat(-1, new float[3], 0, 1));
    }
}
