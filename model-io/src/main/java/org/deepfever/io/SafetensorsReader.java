package org.deepfever.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Tensor;
import org.deepfever.io.Floats.DType;

/**
 * Reads .safetensors files: an 8-byte little-endian header length, a JSON header, then the data.
 * F32 tensors are mapped slices of the file; F16/BF16 are converted to float32 heap arrays;
 * integer and bool tensors are listed in {@link WeightFile#skipped()}; any other dtype is an error.
 * The header is validated strictly (length, JSON syntax, duplicate keys, offsets inside the data
 * section, no overlaps, byte counts matching shapes); {@code __metadata__} is allowed and ignored.
 */
public final class SafetensorsReader {
    /** Headers larger than this are refused (the reference implementation's limit). */
    static final long MAX_HEADER = 100L * 1000 * 1000;

    private SafetensorsReader() {}

    private record Entry(String name, DType type, String dtypeName, int[] dims, long begin, long end) {}

    /** Maps and validates a safetensors file. */
    public static WeightFile read(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MappedFile f = MappedFile.map(path, arena);
            WeightFile w = parse(f, arena);
            return w;
        } catch (IOException | RuntimeException | Error e) {
            MappedFile.closeQuietly(arena);
            throw e;
        }
    }

    private static WeightFile parse(MappedFile f, Arena arena) throws ModelFormatException {
        long size = f.size();
        if (size < 8) throw f.error("file has " + size + " bytes, too short for the 8-byte safetensors header length (truncated?)");
        long n = f.seg.get(MappedFile.LE_LONG, 0);
        if (n < 2 || n > MAX_HEADER) throw f.error("header length " + Long.toUnsignedString(n) + " is not sane (must be 2.." + MAX_HEADER + " bytes); not a safetensors file?");
        if (n > size - 8) throw f.error("header length " + n + " exceeds the " + (size - 8) + " bytes after the length field (truncated?)");
        byte[] hb = f.seg.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(hb)).toString();
        } catch (CharacterCodingException e) {
            throw f.error("header is not valid UTF-8");
        }
        Object root;
        try {
            root = JsonTree.parse(text, MAX_HEADER);
        } catch (JsonTree.JsonException e) {
            throw f.error("header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> header)) throw f.error("header JSON is not an object");
        long dataStart = 8 + n;
        long dataLen = size - dataStart;
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : header.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> meta)) throw f.error("__metadata__ is not an object");
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String)) throw f.error("__metadata__ value '" + m.getKey() + "' is not a string");
                }
                continue;
            }
            entries.add(entry(f, name, e.getValue(), dataLen));
        }
        // No two tensors may share bytes.
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry prev = null;
        for (Entry e : byOffset) {
            if (e.begin == e.end) continue;
            if (prev != null && e.begin < prev.end) {
                throw f.error(e.name, "data_offsets [" + e.begin + ", " + e.end + "] overlap tensor '" + prev.name + "' at [" + prev.begin + ", " + prev.end + "]");
            }
            prev = e;
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (Entry e : byOffset) {
            if (e.type.isIntegral()) { skipped.put(e.name, e.type.label); continue; }
            MemorySegment bytes = f.seg.asSlice(dataStart + e.begin, e.end - e.begin);
            tensors.put(e.name, Floats.tensor(bytes, e.type, e.dims, ByteOrder.LITTLE_ENDIAN));
        }
        return new WeightFile(f.path, "safetensors", tensors, skipped, arena);
    }

    private static Entry entry(MappedFile f, String name, Object value, long dataLen) throws ModelFormatException {
        if (!(value instanceof Map<?, ?> m)) throw f.error(name, "header entry is not an object");
        if (!(m.get("dtype") instanceof String dtype)) throw f.error(name, "missing or non-string \"dtype\"");
        if (!(m.get("shape") instanceof List<?> shapeList)) throw f.error(name, "missing or non-array \"shape\"");
        if (!(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2) throw f.error(name, "\"data_offsets\" must be an array [begin, end]");
        long[] dims = new long[shapeList.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = nonNegative(f, name, "shape", shapeList.get(i));
            if (dims[i] > Integer.MAX_VALUE) throw f.error(name, "shape " + shapeList + " has a dimension over " + Integer.MAX_VALUE);
        }
        long begin = nonNegative(f, name, "data_offsets", offs.get(0));
        long end = nonNegative(f, name, "data_offsets", offs.get(1));
        if (begin > end) throw f.error(name, "data_offsets [" + begin + ", " + end + "]: begin > end");
        if (end > dataLen) throw f.error(name, "data_offsets [" + begin + ", " + end + "] exceed the data section of " + dataLen + " bytes (truncated?)");
        DType type = switch (dtype) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I64" -> DType.I64;
            case "I32" -> DType.I32;
            case "I16" -> DType.I16;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "BOOL" -> DType.BOOL;
            default -> throw f.error(name, "unsupported dtype " + dtype + " (supported: F32, F16, BF16; integer tensors are skipped)");
        };
        long numel = Floats.numel(dims);
        long need = Floats.bytes(numel, type);
        if (need != end - begin) {
            throw f.error(name, "shape " + shapeList + " " + dtype + " needs " + (need < 0 ? "too many" : String.valueOf(need)) + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return new Entry(name, type, dtype, Floats.intDims(dims), begin, end);
    }

    private static long nonNegative(MappedFile f, String tensor, String field, Object v) throws ModelFormatException {
        if (v instanceof Long l && l >= 0) return l;
        if (v instanceof BigInteger) throw f.error(tensor, "\"" + field + "\" value " + v + " is too large");
        throw f.error(tensor, "\"" + field + "\" holds " + v + ", not a non-negative integer");
    }
}
