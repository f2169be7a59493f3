package org.deepfever.io;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deepfever.core.Tensor;

/**
 * Named float32 tensors read from a weight file. Float32 little-endian tensors are slices of the
 * memory-mapped file (valid until {@link #close()}, readable from any thread); float16/bfloat16
 * ones are converted into heap arrays. Integer tensors (e.g. BatchNorm's num_batches_tracked) are
 * not loaded; their names are listed in {@link #skipped()}.
 */
public final class WeightFile implements AutoCloseable {
    private final Path path;
    private final String format;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> skipped;
    private final Arena arena;
    private final AtomicBoolean closed = new AtomicBoolean();

    WeightFile(Path path, String format, Map<String, Tensor> tensors, Map<String, String> skipped, Arena arena) {
        this.path = path;
        this.format = format;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.skipped = Collections.unmodifiableMap(new LinkedHashMap<>(skipped));
        this.arena = arena;
    }

    /**
     * Opens a .pth (torch zip), .safetensors or .npy file, recognised by its first bytes, or a TF.js
     * weights manifest ({@code .json}, with its shards beside it; {@link TfjsReader}).
     *
     * @throws ModelFormatException when the file is not one of these or is malformed
     * @throws IOException when it cannot be read
     */
    public static WeightFile open(Path path) throws IOException {
        if (path.getFileName() != null && path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".json")) return TfjsReader.read(path);
        byte[] head = new byte[8];
        int n;
        try (InputStream in = Files.newInputStream(path)) { n = in.readNBytes(head, 0, 8); }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return PthReader.read(path);
        if (n >= 6 && (head[0] & 0xff) == 0x93 && head[1] == 'N' && head[2] == 'U' && head[3] == 'M' && head[4] == 'P' && head[5] == 'Y') {
            return Npy.open(path);
        }
        if (n >= 1 && (head[0] & 0xff) == 0x80) return PthReader.read(path); // legacy pickle: PthReader explains
        if (n == 8) return SafetensorsReader.read(path);
        throw new ModelFormatException(path, "not a recognised weight file (expected torch zip checkpoint, safetensors or .npy)");
    }

    /** The file these tensors come from. */
    public Path path() { return path; }

    /** "pth", "safetensors", "npy" or "tfjs". */
    public String format() { return format; }

    /** Float tensors by name, in file order (unmodifiable). */
    public Map<String, Tensor> tensors() { return tensors; }

    /** The tensor of that name; throws IllegalArgumentException naming the file when absent. */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException(path + ": no float tensor '" + name + "'" + (skipped.containsKey(name) ? " (it is " + skipped.get(name) + ", not loaded)" : ""));
        return t;
    }

    /** Non-float tensors present in the file but not loaded: name to dtype, e.g. "int64". */
    public Map<String, String> skipped() { return skipped; }

    /** Releases the file mapping; mapped tensors must not be used afterwards. Idempotent. */
    @Override public void close() {
        if (arena != null && closed.compareAndSet(false, true)) arena.close();
    }

    @Override public String toString() { return "WeightFile[" + format + " " + path + ", " + tensors.size() + " tensors]"; }
}
