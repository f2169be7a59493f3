package org.deepfever.core;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Where a tensor's float32 elements live: a heap array (activations, packed weights) or an
 * off-heap {@link MemorySegment} read explicitly little-endian (weights memory-mapped from a file).
 */
public sealed interface Storage permits Storage.Heap, Storage.Segment {
    ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    long floats();

    float get(long index);

    void set(long index, float value);

    record Heap(float[] array) implements Storage {
        public long floats() { return array.length; }
        public float get(long i) { return array[Math.toIntExact(i)]; }
        public void set(long i, float v) { array[Math.toIntExact(i)] = v; }
    }

    /** Little-endian float32 over a segment; the segment's byte size must be a multiple of 4. */
    record Segment(MemorySegment segment) implements Storage {
        public Segment {
            if (segment.byteSize() % 4 != 0) throw new IllegalArgumentException("segment size " + segment.byteSize() + " is not a multiple of 4");
        }
        public long floats() { return segment.byteSize() / 4; }
        public float get(long i) { return segment.getAtIndex(LE_FLOAT, i); }
        public void set(long i, float v) { segment.setAtIndex(LE_FLOAT, i, v); }
    }
}
