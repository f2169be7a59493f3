package org.deepfever.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deepfever.core.Tensor;
import org.deepfever.io.Floats.DType;
import org.deepfever.io.onnx.proto.Onnx.GraphProto;
import org.deepfever.io.onnx.proto.Onnx.ModelProto;
import org.deepfever.io.onnx.proto.Onnx.StringStringEntryProto;
import org.deepfever.io.onnx.proto.Onnx.TensorProto;

/**
 * An ONNX model read by {@link OnnxReader}: the parsed {@link ModelProto}, the opset of the
 * default domain, and the graph's initializers decoded into tensors. Float32 raw_data
 * initializers are slices of the memory-mapped model (or external data) file; float_data,
 * float16 and bfloat16 ones are heap arrays; int64/int32 initializers are {@link IntTensor}s.
 *
 * <p>The graph initializers in {@link #graph()} carry no raw_data: it stays in the mapped file and
 * is exposed only through {@link #initializers()} / {@link #intInitializers()}. Mapped tensors are
 * valid until {@link #close()}; the proto itself is plain heap data.
 */
public final class OnnxModel implements AutoCloseable {
    /** An integer tensor (int64 or int32 data widened to long), row-major. */
    public record IntTensor(int[] shape, long[] values) {
        @Override public String toString() { return "IntTensor" + Arrays.toString(shape) + (values.length <= 8 ? Arrays.toString(values) : ""); }
    }

    static final int FLOAT = 1, INT32 = 6, INT64 = 7, FLOAT16 = 10, BFLOAT16 = 16;

    private final MappedFile file;
    private final Arena arena;
    private final ModelProto proto;
    private final long opset;
    private final Map<String, Tensor> initializers;
    private final Map<String, IntTensor> intInitializers;
    private final Map<Path, MappedFile> external = new HashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    OnnxModel(MappedFile file, Arena arena, ModelProto proto, long opset, List<long[]> rawData) throws ModelFormatException {
        this.file = file;
        this.arena = arena;
        this.proto = proto;
        this.opset = opset;
        Map<String, Tensor> floats = new LinkedHashMap<>();
        Map<String, IntTensor> ints = new LinkedHashMap<>();
        for (int i = 0; i < proto.getGraph().getInitializerCount(); i++) {
            TensorProto t = proto.getGraph().getInitializer(i);
            long[] raw = rawData.get(i);
            MemorySegment mapped = raw == null ? null : file.seg.asSlice(raw[0], raw[1]);
            String name = t.getName();
            if (name.isEmpty()) throw file.error("graph has an initializer without a name");
            if (floats.containsKey(name) || ints.containsKey(name)) throw file.error(name, "initializer defined twice");
            switch (t.getDataType()) {
                case FLOAT, FLOAT16, BFLOAT16 -> floats.put(name, decodeFloats(t, mapped));
                case INT64, INT32 -> ints.put(name, decodeInts(t, mapped));
                default -> throw file.error(name, "initializer has unsupported data type " + typeName(t.getDataType()) + " (supported: FLOAT, FLOAT16, BFLOAT16, INT64, INT32)");
            }
        }
        this.initializers = Collections.unmodifiableMap(floats);
        this.intInitializers = Collections.unmodifiableMap(ints);
    }

    /** The model file. */
    public Path path() { return file.path; }

    /** The ONNX IR version the file declares. */
    public long irVersion() { return proto.getIrVersion(); }

    /** The opset version imported for the default ("" / "ai.onnx") domain, 13 to 17. */
    public long opsetVersion() { return opset; }

    /** The whole parsed model. */
    public ModelProto proto() { return proto; }

    /** The main graph: nodes, inputs, outputs, initializers. */
    public GraphProto graph() { return proto.getGraph(); }

    /** Float initializers by name, in file order (mapped when raw float32 data). */
    public Map<String, Tensor> initializers() { return initializers; }

    /** Integer (int64/int32) initializers by name, in file order. */
    public Map<String, IntTensor> intInitializers() { return intInitializers; }

    /** Decodes a FLOAT/FLOAT16/BFLOAT16 tensor proto of this model (e.g. a Constant's value). */
    public Tensor toTensor(TensorProto t) throws ModelFormatException {
        return decodeFloats(t, null);
    }

    /** Decodes an INT64/INT32 tensor proto of this model (e.g. a Constant's shape value). */
    public IntTensor toInts(TensorProto t) throws ModelFormatException {
        return decodeInts(t, null);
    }

    private Tensor decodeFloats(TensorProto t, MemorySegment mapped) throws ModelFormatException {
        String name = t.getName().isEmpty() ? null : t.getName();
        int[] dims = dims(t);
        long n = numel(t, dims);
        int dt = t.getDataType();
        DType type = switch (dt) {
            case FLOAT -> DType.F32;
            case FLOAT16 -> DType.F16;
            case BFLOAT16 -> DType.BF16;
            default -> throw file.error(name, "data type " + typeName(dt) + " is not a float type (FLOAT, FLOAT16, BFLOAT16)");
        };
        if (n > Integer.MAX_VALUE) throw file.error(name, "dims " + t.getDimsList() + " are too large");
        MemorySegment bytes = bytes(t, mapped, name, type, n);
        if (bytes != null) {
            if (bytes.isNative()) return Floats.tensor(bytes, type, dims, ByteOrder.LITTLE_ENDIAN);
            return Tensor.of(Floats.toFloats(bytes, type, n, ByteOrder.LITTLE_ENDIAN), dims);
        }
        if (type == DType.F32) {
            if (t.getFloatDataCount() != n) throw file.error(name, "dims " + t.getDimsList() + " need " + n + " values, float_data holds " + t.getFloatDataCount());
            float[] a = new float[(int) n];
            for (int i = 0; i < a.length; i++) a[i] = t.getFloatData(i);
            return Tensor.of(a, dims);
        }
        // float16/bfloat16 without raw_data: bit patterns in the low 16 bits of int32_data.
        if (t.getInt32DataCount() != n) throw file.error(name, "dims " + t.getDimsList() + " need " + n + " values, int32_data holds " + t.getInt32DataCount());
        float[] a = new float[(int) n];
        for (int i = 0; i < a.length; i++) {
            int bits = t.getInt32Data(i) & 0xffff;
            a[i] = type == DType.F16 ? Float.float16ToFloat((short) bits) : Float.intBitsToFloat(bits << 16);
        }
        return Tensor.of(a, dims);
    }

    private IntTensor decodeInts(TensorProto t, MemorySegment mapped) throws ModelFormatException {
        String name = t.getName().isEmpty() ? null : t.getName();
        int[] dims = dims(t);
        long n = numel(t, dims);
        int dt = t.getDataType();
        if (dt != INT64 && dt != INT32) throw file.error(name, "data type " + typeName(dt) + " is not an integer type (INT64, INT32)");
        if (n > Integer.MAX_VALUE) throw file.error(name, "dims " + t.getDimsList() + " are too large");
        // The element count is checked against the data before anything is allocated by it.
        MemorySegment bytes = bytes(t, mapped, name, dt == INT64 ? DType.I64 : DType.I32, n);
        long[] v;
        if (bytes != null) {
            v = new long[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = dt == INT64 ? bytes.getAtIndex(MappedFile.LE_LONG, i) : bytes.getAtIndex(MappedFile.LE_INT, i);
            }
        } else if (dt == INT64) {
            if (t.getInt64DataCount() != n) throw file.error(name, "dims " + t.getDimsList() + " need " + n + " values, int64_data holds " + t.getInt64DataCount());
            v = new long[(int) n];
            for (int i = 0; i < v.length; i++) v[i] = t.getInt64Data(i);
        } else {
            if (t.getInt32DataCount() != n) throw file.error(name, "dims " + t.getDimsList() + " need " + n + " values, int32_data holds " + t.getInt32DataCount());
            v = new long[(int) n];
            for (int i = 0; i < v.length; i++) v[i] = t.getInt32Data(i);
        }
        return new IntTensor(dims, v);
    }

    /** Releases the mapping of the model and its external data files. Idempotent. */
    @Override public void close() {
        if (closed.compareAndSet(false, true)) arena.close();
    }

    @Override public String toString() { return "OnnxModel[" + file.path + ", opset " + opset + ", " + graph().getNodeCount() + " nodes]"; }

    /** The element count of {@code dims}; dims whose product overflows a long are an error. */
    private long numel(TensorProto t, int[] dims) throws ModelFormatException {
        long[] wide = new long[dims.length];
        for (int i = 0; i < dims.length; i++) wide[i] = dims[i];
        long n = Floats.numel(wide);
        if (n < 0) throw file.error(t.getName().isEmpty() ? null : t.getName(), "dims " + t.getDimsList() + " are too large");
        return n;
    }

    private int[] dims(TensorProto t) throws ModelFormatException {
        int[] d = new int[t.getDimsCount()];
        for (int i = 0; i < d.length; i++) {
            long v = t.getDims(i);
            if (v < 0 || v > Integer.MAX_VALUE) throw file.error(t.getName().isEmpty() ? null : t.getName(), "bad dims " + t.getDimsList());
            d[i] = (int) v;
        }
        return d;
    }

    /**
     * External data, mapped raw_data (initializers) or raw_data (other tensors) as a segment of
     * exactly n elements; null when the typed fields hold the data.
     */
    private MemorySegment bytes(TensorProto t, MemorySegment mapped, String name, DType type, long n) throws ModelFormatException {
        long need = Floats.bytes(n, type); // n < 2^31 here: no overflow
        MemorySegment seg;
        String where;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            seg = externalData(t, name);
            where = "external data";
        } else if (mapped != null) {
            seg = mapped;
            where = "raw_data";
        } else if (t.hasRawData()) {
            seg = MemorySegment.ofArray(t.getRawData().toByteArray());
            where = "raw_data";
        } else {
            return null;
        }
        if (seg.byteSize() != need) {
            throw file.error(name, "dims " + t.getDimsList() + " " + typeName(t.getDataType()) + " need " + need + " bytes, " + where + " holds " + seg.byteSize());
        }
        return seg;
    }

    private MemorySegment externalData(TensorProto t, String name) throws ModelFormatException {
        String location = null;
        long offset = 0, length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = parseLong(name, "offset", e.getValue());
                case "length" -> length = parseLong(name, "length", e.getValue());
                default -> { /* checksum and others: not needed */ }
            }
        }
        if (location == null || location.isEmpty()) throw file.error(name, "external data has no location");
        Path base = file.path.toAbsolutePath().normalize().getParent();
        Path rel;
        try {
            rel = Path.of(location);
        } catch (InvalidPathException e) {
            throw file.error(name, "external data location '" + location + "' is not a valid path");
        }
        if (rel.isAbsolute() || rel.getRoot() != null) throw file.error(name, "external data location '" + location + "' is absolute; it must be relative to the model's directory");
        Path target = base.resolve(rel).normalize();
        if (!target.startsWith(base) || target.equals(base)) throw file.error(name, "external data location '" + location + "' escapes the model's directory");
        MappedFile ext;
        synchronized (external) {
            ext = external.get(target);
            if (ext == null) {
                try {
                    if (!target.toRealPath().startsWith(base.toRealPath())) throw file.error(name, "external data location '" + location + "' escapes the model's directory (through a link)");
                    ext = MappedFile.map(target, arena);
                } catch (NoSuchFileException e) {
                    throw file.error(name, "external data file '" + location + "' not found next to the model");
                } catch (ModelFormatException e) {
                    throw e;
                } catch (IOException e) {
                    throw new ModelFormatException(file.path, name, "cannot read external data file '" + location + "': " + e, e);
                }
                external.put(target, ext);
            }
        }
        if (length < 0) length = ext.size() - offset;
        if (offset > ext.size() || length < 0 || length > ext.size() - offset) {
            throw file.error(name, "external data [" + offset + ", +" + length + ") lies outside '" + location + "' of " + ext.size() + " bytes (truncated?)");
        }
        return ext.seg.asSlice(offset, length);
    }

    private long parseLong(String name, String key, String v) throws ModelFormatException {
        try {
            long x = Long.parseLong(v.strip());
            if (x >= 0) return x;
        } catch (NumberFormatException ignored) { /* below */ }
        throw file.error(name, "external data " + key + " '" + v + "' is not a non-negative integer");
    }

    static String typeName(int dt) {
        TensorProto.DataType d = TensorProto.DataType.forNumber(dt);
        return d == null ? "#" + dt : d.name();
    }
}
