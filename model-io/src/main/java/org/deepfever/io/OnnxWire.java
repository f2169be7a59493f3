package org.deepfever.io;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A pass over the protobuf wire format of an ONNX ModelProto that finds the raw_data of every
 * graph initializer (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.raw_data = 9)
 * in the mapped file and returns the model's bytes without them. protobuf's Java runtime (4.x) copies direct
 * buffers onto the heap instead of aliasing them, so this is how initializer data stays mapped:
 * protobuf parses only the small remainder (graph structure, attributes, names).
 */
final class OnnxWire {
    /** The model without initializer raw_data, and each initializer's raw_data {offset, length} in the file (null if absent). */
    record Stripped(byte[] model, List<long[]> rawData) {}

    private static final int MODEL_GRAPH = 7, GRAPH_INITIALIZER = 5, TENSOR_RAW_DATA = 9;

    private final MappedFile f;
    private final List<long[]> raw = new ArrayList<>();
    private long pos;

    /**
     * A window of the file copied onto the heap, so that varints are read from an array. Small: the
     * pass refills it after every initializer's raw_data it skips, and a 64 KB window made that 32 MB
     * of copying (and of the mapping's pages touched) for DeepFEVER's ~500 initializers, where the
     * bytes between two raw_data fields are a few dozen.
     */
    private final byte[] window = new byte[4 * 1024];
    private long windowStart;
    private int windowLength;

    private OnnxWire(MappedFile f) { this.f = f; }

    private int byteAt(long p) {
        long i = p - windowStart;
        if (i < 0 || i >= windowLength) {
            windowStart = p;
            windowLength = (int) Math.min(window.length, f.size() - p);
            MemorySegment.copy(f.seg, ValueLayout.JAVA_BYTE, p, window, 0, windowLength);
            i = 0;
        }
        return window[(int) i] & 0xff;
    }

    static Stripped strip(MappedFile f) throws ModelFormatException {
        OnnxWire w = new OnnxWire(f);
        byte[] model = w.message(0, f.size(), 0);
        return new Stripped(model, w.raw);
    }

    /** Rewrites the message in [start, end); level 0 = ModelProto, 1 = GraphProto, 2 = TensorProto. */
    private byte[] message(long start, long end, int level) throws ModelFormatException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        pos = start;
        long[] rawHere = null;
        while (pos < end) {
            long fieldStart = pos;
            long tag = varint(end);
            int field = (int) (tag >>> 3), wire = (int) (tag & 7);
            if (field <= 0) throw corrupt(fieldStart, "field number " + (tag >>> 3));
            if (wire == 2) {
                long len = varint(end);
                if (len < 0 || len > end - pos) throw corrupt(fieldStart, "field " + field + " of " + len + " bytes runs past its message");
                long body = pos;
                boolean descend = (level == 0 && field == MODEL_GRAPH) || (level == 1 && field == GRAPH_INITIALIZER);
                if (descend) {
                    if (level == 1) raw.add(null);
                    int index = raw.size() - 1;
                    lastRaw = null;
                    byte[] inner = message(body, body + len, level + 1);
                    if (level == 1 && lastRaw != null) raw.set(index, lastRaw);
                    writeVarint(out, tag);
                    writeVarint(out, inner.length);
                    out.writeBytes(inner);
                } else if (level == 2 && field == TENSOR_RAW_DATA) {
                    rawHere = new long[] {body, len};
                } else {
                    copy(out, fieldStart, body + len);
                }
                pos = body + len;
            } else {
                switch (wire) {
                    case 0 -> varint(end);
                    case 1 -> skip(8, end, fieldStart);
                    case 5 -> skip(4, end, fieldStart);
                    default -> throw corrupt(fieldStart, "unsupported wire type " + wire);
                }
                copy(out, fieldStart, pos);
            }
        }
        if (pos != end) throw corrupt(pos, "message overruns its length");
        if (level == 2) lastRaw = rawHere;
        return out.toByteArray();
    }

    /** raw_data found by the most recent TensorProto rewrite. */
    private long[] lastRaw;

    private void copy(ByteArrayOutputStream out, long from, long to) {
        long i = from - windowStart;
        if (i >= 0 && to - windowStart <= windowLength) {
            out.write(window, (int) i, (int) (to - from));
        } else {
            out.writeBytes(f.seg.asSlice(from, to - from).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    private void skip(int n, long end, long fieldStart) throws ModelFormatException {
        if (end - pos < n) throw corrupt(fieldStart, "fixed-size field runs past its message");
        pos += n;
    }

    private long varint(long end) throws ModelFormatException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw corrupt(pos, "varint runs past the end");
            int b = byteAt(pos++);
            v |= (long) (b & 0x7f) << shift;
            if (b < 0x80) return v;
        }
        throw corrupt(pos, "varint longer than 10 bytes");
    }

    private static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private ModelFormatException corrupt(long at, String what) {
        return f.error("not a valid ONNX model (truncated or corrupt protobuf at byte " + at + " of " + f.size() + "): " + what);
    }
}
