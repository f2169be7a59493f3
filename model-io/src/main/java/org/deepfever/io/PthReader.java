package org.deepfever.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Shape;
import org.deepfever.core.Storage;
import org.deepfever.core.Tensor;
import org.deepfever.io.RestrictedUnpickler.StorageRef;
import org.deepfever.io.RestrictedUnpickler.TensorRef;

/**
 * Reads PyTorch checkpoints written by {@code torch.save} (zip format, torch 1.6+): entries
 * {@code <prefix>/data.pkl}, {@code <prefix>/data/<key>} and optionally {@code <prefix>/byteorder}.
 * The pickle is read by a restricted unpickler that only knows state-dict types (OrderedDict,
 * tensor/parameter rebuild functions, torch storage classes) and refuses every other global, so a
 * malicious checkpoint cannot run code. Stored (uncompressed) float32 little-endian tensors are
 * slices of the mapped file; float16/bfloat16, big-endian, deflated or non-contiguous ones become
 * contiguous heap tensors. Integer/bool tensors (e.g. num_batches_tracked) are listed in
 * {@link WeightFile#skipped()}; float64 tensors are an error.
 *
 * <p>If the top-level dict holds no tensors, the state dict is taken from the first of the keys
 * {@link #WRAPPER_KEYS} whose value is a dict holding tensors (training checkpoints such as
 * {@code {"epoch": 3, "state_dict": {...}, "optimizer": {...}}}). Non-tensor values are ignored.
 */
public final class PthReader {
    /** Keys under which a wrapped state dict is looked for, in this order. */
    public static final List<String> WRAPPER_KEYS = List.of("state_dict", "model", "model_state_dict", "net");

    /**
     * Largest element count to which a view that repeats its storage's elements (stride 0, as
     * {@code expand} makes) is materialised: 16 Mi floats, 64 MiB, over 15 times DeepFEVER's largest
     * weight. Such a view's size is claimed by its shape, not held in the file.
     */
    static final long MAX_EXPANDED = 1L << 24;

    private PthReader() {}

    /** Maps and reads a torch.save zip checkpoint. */
    public static WeightFile read(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            return parse(MappedFile.map(path, arena), arena);
        } catch (IOException | RuntimeException | Error e) {
            MappedFile.closeQuietly(arena);
            throw e;
        }
    }

    private static WeightFile parse(MappedFile f, Arena arena) throws ModelFormatException {
        if (f.size() < 4) throw f.error("file has " + f.size() + " bytes: truncated, not a torch checkpoint");
        int magic = f.seg.get(MappedFile.LE_INT, 0);
        if (magic != 0x04034b50) {
            if ((f.seg.get(ValueLayout.JAVA_BYTE, 0) & 0xff) == 0x80) {
                throw f.error("legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a recent torch.save");
            }
            throw f.error("not a torch zip checkpoint (no zip signature)");
        }
        ZipDirectory zip = ZipDirectory.read(f);
        String prefix = null;
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.indexOf('/', slash + 1) < 0 && name.endsWith("/data.pkl")) {
                if (prefix != null) throw f.error("archive holds two pickles: " + prefix + "/data.pkl and " + name);
                prefix = name.substring(0, slash);
            }
        }
        if (prefix == null) throw f.error("no <archive>/data.pkl entry: not a torch.save checkpoint");
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        ZipDirectory.Entry bo = zip.get(prefix + "/byteorder");
        if (bo != null) {
            MemorySegment b = zip.data(bo, null);
            String s = new String(b.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
            if (s.equals("big")) order = ByteOrder.BIG_ENDIAN;
            else if (!s.equals("little")) throw f.error(prefix + "/byteorder says '" + s + "', expected 'little' or 'big'");
        }
        Object root = RestrictedUnpickler.load(f, zip.data(zip.get(prefix + "/data.pkl"), null));
        Map<?, ?> sd = stateDict(f, root);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        Map<String, MemorySegment> storages = new HashMap<>();
        for (Map.Entry<?, ?> e : sd.entrySet()) {
            if (!(e.getValue() instanceof TensorRef t)) continue;
            String name = String.valueOf(e.getKey());
            StorageRef s = t.storage();
            String entryName = prefix + "/data/" + s.key();
            String shown = "storage data/" + s.key();
            ZipDirectory.Entry entry = zip.get(entryName);
            if (entry == null) throw f.error(name, shown + " (" + entryName + ") is missing from the archive");
            long storageBytes = Floats.bytes(s.numel(), s.type());
            if (storageBytes < 0 || entry.size() < storageBytes) {
                throw f.error(name, shown + " has " + entry.size() + " bytes, but its " + s.numel() + " " + s.type().label + " elements need " + (storageBytes < 0 ? "more than 2^63 bytes" : String.valueOf(storageBytes)));
            }
            if (s.type().isIntegral()) { skipped.put(name, s.type().label); continue; }
            if (!s.type().isFloat()) throw f.error(name, "unsupported dtype " + s.type().label + " (" + s.typeName() + "); supported: float32, float16, bfloat16");
            int[] dims = Floats.intDims(t.size());
            long numel = Floats.numel(t.size());
            if (dims == null || numel < 0 || numel > Integer.MAX_VALUE) throw f.error(name, "shape " + Arrays.toString(t.size()) + " is too large");
            if (numel == 0) { tensors.put(name, Tensor.of(new float[0], dims)); continue; }
            // Highest element index the view touches must lie inside the storage.
            long last = t.offset();
            boolean overflow = false;
            for (int i = 0; i < dims.length; i++) {
                try { last = Math.addExact(last, Math.multiplyExact(dims[i] - 1L, t.stride()[i])); } catch (ArithmeticException x) { overflow = true; }
            }
            if (overflow || last >= s.numel()) {
                throw f.error(name, shown + " has " + entry.size() + " bytes (" + s.numel() + " " + s.type().label + "), shape " + Arrays.toString(t.size())
                        + " stride " + Arrays.toString(t.stride()) + " at element offset " + t.offset() + " needs " + (overflow ? "more" : String.valueOf((last + 1) * s.type().size)));
            }
            // The entry's bytes are shared by every view of the storage; each view's own storage
            // reference declares the element count, checked against the entry above.
            MemorySegment entryData = storages.get(s.key());
            if (entryData == null) {
                entryData = zip.data(entry, name);
                storages.put(s.key(), entryData);
            }
            MemorySegment storage = entryData.asSlice(0, storageBytes);
            int es = s.type().size;
            if (isContiguous(dims, t.stride())) {
                MemorySegment bytes = storage.asSlice(t.offset() * es, numel * es);
                tensors.put(name, Floats.tensor(bytes, s.type(), dims, order));
            } else {
                // A strided view (transposed, expanded...): gather into a contiguous heap tensor.
                long span = last + 1 - t.offset();
                if (numel > span && numel > MAX_EXPANDED) {
                    // Elements repeat (a stride-0 expand): the copy's size is claimed by the shape, not held in the file.
                    throw f.error(name, "view of shape " + Arrays.toString(t.size()) + " stride " + Arrays.toString(t.stride()) + " repeats "
                            + span + " stored elements into " + numel + "; expanded views over " + MAX_EXPANDED + " elements are not loaded (save the tensor contiguous)");
                }
                float[] window = Floats.toFloats(storage.asSlice(t.offset() * es, span * es), s.type(), span, order);
                Tensor view = new Tensor(Shape.of(dims), t.stride(), new Storage.Heap(window), 0);
                tensors.put(name, view.copy());
            }
        }
        return new WeightFile(f.path, "pth", tensors, skipped, arena);
    }

    private static boolean isContiguous(int[] dims, long[] stride) {
        long expect = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            if (dims[i] != 1 && stride[i] != expect) return false;
            expect *= dims[i];
        }
        return true;
    }

    private static Map<?, ?> stateDict(MappedFile f, Object root) throws ModelFormatException {
        if (!(root instanceof Map<?, ?> top)) throw f.error("data.pkl does not hold a dict (a state dict was expected)");
        if (holdsTensors(top)) return top;
        for (String k : WRAPPER_KEYS) {
            if (top.get(k) instanceof Map<?, ?> inner && holdsTensors(inner)) return inner;
        }
        throw f.error("no tensors found: expected a state dict, or one under " + String.join(", ", WRAPPER_KEYS.stream().map(k -> "'" + k + "'").toList()));
    }

    private static boolean holdsTensors(Map<?, ?> m) {
        for (Object v : m.values()) if (v instanceof TensorRef) return true;
        return false;
    }
}
