package org.deepfever.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Tensor;
import org.deepfever.io.Floats.DType;

/**
 * NumPy .npy files (format versions 1, 2 and 3), C order. Reads '&lt;f4' and converts '&lt;f8'
 * and '&lt;f2' to float32; writes '&lt;f4' (version 1, or 2 for very long headers).
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private Npy() {}

    /** Reads a .npy file into a heap tensor (independent of the file once returned). */
    public static Tensor read(Path path) throws IOException {
        try (WeightFile w = open(path)) {
            Tensor t = w.tensors().values().iterator().next();
            return t.isHeap() ? t : t.copy();
        }
    }

    /**
     * Maps a .npy file: one tensor, named after the file without ".npy", a slice of the mapping
     * when '&lt;f4' (converted to heap otherwise); valid until the WeightFile is closed.
     */
    public static WeightFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MappedFile f = MappedFile.map(path, arena);
            String name = path.getFileName().toString();
            if (name.endsWith(".npy")) name = name.substring(0, name.length() - 4);
            Tensor t = parse(f, name);
            return new WeightFile(path, "npy", Map.of(name, t), Map.of(), arena);
        } catch (IOException | RuntimeException | Error e) {
            MappedFile.closeQuietly(arena);
            throw e;
        }
    }

    private static Tensor parse(MappedFile f, String name) throws ModelFormatException {
        long size = f.size();
        if (size < 10 || MemorySegment.ofArray(MAGIC).mismatch(f.seg.asSlice(0, 6)) != -1) {
            throw f.error("not a .npy file (bad magic or shorter than 10 bytes)");
        }
        int major = f.seg.get(ValueLayout.JAVA_BYTE, 6) & 0xff;
        long headerLen;
        long headerStart;
        if (major == 1) {
            headerLen = f.seg.get(MappedFile.LE_SHORT, 8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (size < 12) throw f.error("truncated .npy preamble");
            headerLen = f.seg.get(MappedFile.LE_INT, 8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw f.error("unsupported .npy format version " + major);
        }
        if (headerLen > size - headerStart) throw f.error("header of " + headerLen + " bytes exceeds the file (truncated?)");
        byte[] hb = f.seg.asSlice(headerStart, headerLen).toArray(ValueLayout.JAVA_BYTE);
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict;
        try {
            dict = new PyLiteral(header).dict();
        } catch (IllegalArgumentException e) {
            throw f.error("bad .npy header " + header.strip() + ": " + e.getMessage());
        }
        if (!(dict.get("descr") instanceof String descr)) throw f.error("header has no 'descr' string");
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) throw f.error("header has no 'fortran_order' boolean");
        if (!(dict.get("shape") instanceof List<?> shapeList)) throw f.error("header has no 'shape' tuple");
        if (fortran) throw f.error("fortran_order=True arrays are not supported; save a C-order array (np.ascontiguousarray)");
        DType type = switch (descr) {
            case "<f4" -> DType.F32;
            case "<f8" -> DType.F64;
            case "<f2" -> DType.F16;
            default -> throw f.error("unsupported dtype '" + descr + "' (supported: '<f4', '<f8', '<f2')");
        };
        long[] dims = new long[shapeList.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) throw f.error("bad shape " + shapeList);
            dims[i] = d;
        }
        long dataStart = headerStart + headerLen;
        long need = Floats.bytes(Floats.numel(dims), type);
        if (need < 0 || need > Integer.MAX_VALUE * 4L) throw f.error("shape " + shapeList + " is too large");
        if (size - dataStart != need) {
            throw f.error("shape " + shapeList + " " + descr + " needs " + need + " data bytes, file has " + (size - dataStart) + (size - dataStart < need ? " (truncated?)" : ""));
        }
        MemorySegment data = f.seg.asSlice(dataStart, need);
        try {
            return Floats.tensor(data, type, Floats.intDims(dims), ByteOrder.LITTLE_ENDIAN);
        } catch (ArithmeticException e) {
            throw f.error("shape " + shapeList + " has too many elements");
        }
    }

    /** Writes {@code t} (any layout) as a C-order '&lt;f4' .npy file, replacing {@code path}. */
    public static void write(Path path, Tensor t) throws IOException {
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < t.rank(); i++) shape.append(t.dim(i)).append(t.rank() == 1 ? "," : i + 1 < t.rank() ? ", " : "");
        shape.append(')');
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        // Pad with spaces so that the data starts on a 64-byte boundary; the header ends in '\n'.
        int preamble = dict.length() + 1 + 10 > 65535 ? 12 : 10;
        int total = (preamble + dict.length() + 1 + 63) / 64 * 64;
        String header = dict + " ".repeat(total - preamble - dict.length() - 1) + "\n";
        byte[] hb = header.getBytes(StandardCharsets.ISO_8859_1);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16)) {
            ByteBuffer pre = ByteBuffer.allocate(preamble).order(ByteOrder.LITTLE_ENDIAN);
            pre.put(MAGIC).put((byte) (preamble == 10 ? 1 : 2)).put((byte) 0);
            if (preamble == 10) pre.putShort((short) hb.length); else pre.putInt(hb.length);
            out.write(pre.array());
            out.write(hb);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            long n = t.size();
            boolean dense = t.isHeap() && t.isContiguous();
            float[] a = dense ? t.array() : null;
            int off = dense ? t.arrayOffset() : 0;
            for (long i = 0; i < n; i++) {
                if (!buf.hasRemaining()) { out.write(buf.array(), 0, buf.position()); buf.clear(); }
                buf.putFloat(dense ? a[off + (int) i] : t.getFlat(i));
            }
            out.write(buf.array(), 0, buf.position());
        }
    }

    /** Parses the Python dict literal of a .npy header: strings, True/False/None, ints, tuples. */
    private static final class PyLiteral {
        private final String s;
        private int pos;

        PyLiteral(String s) { this.s = s; }

        Map<String, Object> dict() {
            ws();
            expect('{');
            Map<String, Object> m = new LinkedHashMap<>();
            while (true) {
                ws();
                if (peek() == '}') { pos++; break; }
                Object k = value();
                if (!(k instanceof String key)) throw new IllegalArgumentException("non-string key");
                ws();
                expect(':');
                ws();
                if (m.put(key, value()) != null) throw new IllegalArgumentException("duplicate key '" + key + "'");
                ws();
                if (peek() == ',') { pos++; continue; }
                ws();
                expect('}');
                break;
            }
            ws();
            if (pos != s.length()) throw new IllegalArgumentException("trailing characters");
            return m;
        }

        private char peek() {
            if (pos >= s.length()) throw new IllegalArgumentException("unexpected end");
            return s.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) throw new IllegalArgumentException("expected '" + c + "' at " + pos);
            pos++;
        }

        private void ws() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
        }

        private Object value() {
            char c = peek();
            if (c == '\'' || c == '"') {
                int end = s.indexOf(c, pos + 1);
                if (end < 0) throw new IllegalArgumentException("unterminated string");
                String v = s.substring(pos + 1, end);
                pos = end + 1;
                return v;
            }
            if (c == '(') {
                pos++;
                List<Object> items = new ArrayList<>();
                while (true) {
                    ws();
                    if (peek() == ')') { pos++; return items; }
                    items.add(value());
                    ws();
                    if (peek() == ',') { pos++; continue; }
                    expect(')');
                    return items;
                }
            }
            for (String w : new String[] {"True", "False", "None"}) {
                if (s.startsWith(w, pos)) {
                    pos += w.length();
                    return w.equals("None") ? null : Boolean.valueOf(w.equals("True"));
                }
            }
            int start = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
            if (pos < s.length() && s.charAt(pos) == 'L') pos++; // Python 2 long suffix
            String digits = s.substring(start, pos).replace("L", "");
            if (digits.isEmpty() || digits.length() > 18) throw new IllegalArgumentException("bad value at " + start);
            return Long.parseLong(digits);
        }
    }
}
