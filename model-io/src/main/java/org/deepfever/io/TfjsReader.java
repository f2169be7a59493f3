package org.deepfever.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Tensor;

/**
 * Reads TF.js weights: a weights manifest (JSON) and the binary shards it names. The manifest is an
 * array of groups {@code {"paths": [shard, ...], "weights": [entry, ...]}} (or a TF.js
 * {@code model.json} object holding one under {@code "weightsManifest"}). Within a group the shards
 * are concatenated in order and hold the group's tensors back to back in entry order, little-endian,
 * as TF.js's {@code io.decodeWeights} reads them. Each entry has a {@code name}, a {@code shape} and
 * a {@code dtype}, and optionally a {@code quantization}:
 * <ul>
 *   <li>no quantization, float32: 4 bytes per value;</li>
 *   <li>uint8 / uint16: value = q * scale + min (computed in double and rounded to float, as TF.js
 *   does), {@code scale} and {@code min} required;</li>
 *   <li>float16: IEEE half values.</li>
 * </ul>
 * Every tensor becomes a float32 heap tensor with the manifest's shape (TF.js layouts: conv filters
 * HWIO, dense weights [in, out]). int32, bool and complex64 tensors are not loaded; they are listed
 * in {@link WeightFile#skipped()}. String tensors and unknown dtypes are errors.
 *
 * <p>Validation is strict, with errors naming the file and the tensor: the JSON must be well formed
 * without duplicate keys, every field of the right type, shard paths relative and inside the
 * manifest's folder, tensor names unique, and each group's shards exactly as long as its tensors
 * need (shorter: which tensor does not fit; longer: by how much).
 */
public final class TfjsReader {
    /** Manifests larger than this are refused (face-api's are a few KB, big converted models a few hundred KB). */
    static final long MAX_MANIFEST = 64L * 1024 * 1024;

    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private TfjsReader() {}

    /** Where the shards come from: the bytes of a shard given its path as written in the manifest. */
    @FunctionalInterface
    public interface ShardSource {
        /**
         * The whole content of shard {@code path}.
         *
         * @throws IOException when it cannot be read (a missing shard: {@link NoSuchFileException})
         */
        byte[] read(String path) throws IOException;
    }

    /**
     * Reads the manifest at {@code manifest} and its shards, resolved in the manifest's folder.
     *
     * @throws NoSuchFileException when the manifest or a shard does not exist
     * @throws ModelFormatException when the manifest or a shard is malformed or inconsistent
     * @throws IOException on other read errors
     */
    public static WeightFile read(Path manifest) throws IOException {
        long size;
        try {
            size = Files.size(manifest);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(manifest.toString(), null, "no such file");
        }
        if (size > MAX_MANIFEST) throw new ModelFormatException(manifest, "manifest of " + size + " bytes is larger than " + MAX_MANIFEST + " bytes; not a TF.js weights manifest?");
        Path dir = manifest.toAbsolutePath().getParent();
        return read(manifest, Files.readAllBytes(manifest), path -> {
            Path shard = dir.resolve(path);
            try {
                return Files.readAllBytes(shard);
            } catch (NoSuchFileException e) {
                throw new NoSuchFileException(shard.toString(), null, "no such file (a shard named by " + manifest.getFileName() + ")");
            }
        });
    }

    /**
     * Reads a manifest given as bytes, its shards through {@code shards} (e.g. classpath resources);
     * {@code manifest} names the manifest in errors, and each shard's path is resolved beside it in
     * error messages.
     *
     * @throws ModelFormatException when the manifest or a shard is malformed or inconsistent
     * @throws IOException when {@code shards} fails
     */
    public static WeightFile read(Path manifest, byte[] manifestJson, ShardSource shards) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(manifestJson);
        } catch (JacksonException e) {
            throw new ModelFormatException(manifest, null, "not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")"), e);
        }
        if (root == null || root.isMissingNode()) throw new ModelFormatException(manifest, "empty file; expected a TF.js weights manifest (a JSON array of groups)");
        if (root.isObject() && root.has("weightsManifest")) root = root.get("weightsManifest");
        if (!root.isArray()) throw new ModelFormatException(manifest, "expected a JSON array of weight groups (or a model.json with \"weightsManifest\"), got " + kind(root));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (int gi = 0; gi < root.size(); gi++) {
            readGroup(manifest, gi, root.get(gi), shards, tensors, skipped);
        }
        return new WeightFile(manifest, "tfjs", tensors, skipped, null);
    }

    /** One manifest entry, checked: name, shape, how its bytes decode. */
    private record Entry(String name, int[] dims, long numel, Encoding enc, String dtype, double scale, double min) {
        long bytes() { return numel * enc.size; }
    }

    /** How an entry's values are stored. */
    private enum Encoding {
        FLOAT32(4), UINT8(1), UINT16(2), FLOAT16(2), SKIPPED_INT32(4), SKIPPED_BOOL(1), SKIPPED_COMPLEX64(8),
        SKIPPED_INT32_UINT8(1), SKIPPED_INT32_UINT16(2);

        final int size;

        Encoding(int size) { this.size = size; }

        boolean skipped() { return name().startsWith("SKIPPED"); }
    }

    private static void readGroup(Path manifest, int gi, JsonNode group, ShardSource shards,
                                  Map<String, Tensor> tensors, Map<String, String> skipped) throws IOException {
        String where = "group " + gi;
        if (!group.isObject()) throw new ModelFormatException(manifest, where + ": expected an object with \"paths\" and \"weights\", got " + kind(group));
        JsonNode paths = group.get("paths"), weights = group.get("weights");
        if (paths == null || !paths.isArray()) throw new ModelFormatException(manifest, where + ": missing or non-array \"paths\"");
        if (weights == null || !weights.isArray()) throw new ModelFormatException(manifest, where + ": missing or non-array \"weights\"");
        List<Entry> entries = new ArrayList<>();
        long need = 0;
        for (int wi = 0; wi < weights.size(); wi++) {
            Entry e = entry(manifest, where + ", weight " + wi, weights.get(wi));
            if (tensors.containsKey(e.name) || skipped.containsKey(e.name) || entries.stream().anyMatch(x -> x.name.equals(e.name))) {
                throw new ModelFormatException(manifest, e.name, "appears twice in the manifest");
            }
            entries.add(e);
            need = addExact(manifest, e.name, need, e.bytes());
        }
        if (paths.isEmpty() && need > 0) throw new ModelFormatException(manifest, where + ": \"paths\" is empty but its weights need " + need + " bytes");
        // The group's shards, concatenated, with where each one starts (to name the shard in errors).
        List<String> names = new ArrayList<>();
        List<byte[]> parts = new ArrayList<>();
        long total = 0;
        for (int pi = 0; pi < paths.size(); pi++) {
            JsonNode p = paths.get(pi);
            if (!p.isTextual() || p.asText().isEmpty()) throw new ModelFormatException(manifest, where + ": paths[" + pi + "] is not a non-empty string");
            String path = checkedShardPath(manifest, where, p.asText());
            byte[] bytes = shards.read(path);
            names.add(path);
            parts.add(bytes);
            total += bytes.length;
            if (total > Integer.MAX_VALUE - 8) throw new ModelFormatException(shardPath(manifest, path), null, where + "'s shards hold more than 2 GiB, more than this reader supports");
        }
        Path lastShard = paths.isEmpty() ? manifest : shardPath(manifest, names.getLast());
        if (total < need) {
            long offset = 0;
            for (Entry e : entries) {
                if (offset + e.bytes() > total) {
                    throw new ModelFormatException(lastShard, e.name, "needs bytes [" + offset + ", " + (offset + e.bytes()) + ") of " + where
                            + " but its shards " + names + " hold " + total + " bytes (the manifest's weights need " + need + "; truncated?)");
                }
                offset += e.bytes();
            }
        }
        if (total > need) {
            throw new ModelFormatException(lastShard, null, where + "'s shards " + names + " hold " + total + " bytes but the manifest's "
                    + entries.size() + " weights need " + need + " (" + (total - need) + " bytes left over: shards of another manifest?)");
        }
        ByteBuffer data = concat(parts, (int) total);
        long offset = 0;
        for (Entry e : entries) {
            ByteBuffer slice = data.slice((int) offset, (int) e.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            offset += e.bytes();
            if (e.enc.skipped()) {
                skipped.put(e.name, e.dtype);
                continue;
            }
            tensors.put(e.name, Tensor.of(decode(slice, e), e.dims));
        }
    }

    private static ByteBuffer concat(List<byte[]> parts, int total) {
        if (parts.size() == 1) return ByteBuffer.wrap(parts.getFirst());
        byte[] all = new byte[total];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return ByteBuffer.wrap(all);
    }

    private static float[] decode(ByteBuffer b, Entry e) {
        float[] out = new float[Math.toIntExact(e.numel)];
        switch (e.enc) {
            case FLOAT32 -> b.asFloatBuffer().get(out);
            case UINT8 -> {
                for (int i = 0; i < out.length; i++) out[i] = (float) ((b.get(i) & 0xff) * e.scale + e.min);
            }
            case UINT16 -> {
                for (int i = 0; i < out.length; i++) out[i] = (float) ((b.getShort(2 * i) & 0xffff) * e.scale + e.min);
            }
            case FLOAT16 -> {
                for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(b.getShort(2 * i));
            }
            default -> throw new IllegalStateException("not a float encoding: " + e.enc); // skipped before
        }
        return out;
    }

    private static Entry entry(Path manifest, String where, JsonNode w) throws ModelFormatException {
        if (!w.isObject()) throw new ModelFormatException(manifest, where + ": expected an object, got " + kind(w));
        JsonNode nameNode = w.get("name");
        if (nameNode == null || !nameNode.isTextual() || nameNode.asText().isEmpty()) throw new ModelFormatException(manifest, where + ": missing or non-string \"name\"");
        String name = nameNode.asText();
        JsonNode shape = w.get("shape");
        if (shape == null || !shape.isArray()) throw new ModelFormatException(manifest, name, "missing or non-array \"shape\"");
        int[] dims = new int[shape.size()];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.asInt() < 0) throw new ModelFormatException(manifest, name, "shape " + shape + ": dimension " + d + " is not an integer in 0.." + Integer.MAX_VALUE);
            dims[i] = d.asInt();
            numel = multiplyExact(manifest, name, numel, dims[i]);
        }
        if (numel > Integer.MAX_VALUE) throw new ModelFormatException(manifest, name, "shape " + shape + " has " + numel + " elements, more than a tensor can hold");
        JsonNode dtypeNode = w.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw new ModelFormatException(manifest, name, "missing or non-string \"dtype\"");
        String dtype = dtypeNode.asText();
        JsonNode q = w.get("quantization");
        if (q == null || q.isNull()) {
            Encoding enc = switch (dtype) {
                case "float32" -> Encoding.FLOAT32;
                case "int32" -> Encoding.SKIPPED_INT32;
                case "bool" -> Encoding.SKIPPED_BOOL;
                case "complex64" -> Encoding.SKIPPED_COMPLEX64;
                default -> throw new ModelFormatException(manifest, name, "unsupported dtype \"" + dtype + "\" (supported: float32, and int32, bool, complex64 which are skipped)");
            };
            return new Entry(name, dims, numel, enc, dtype, 0, 0);
        }
        if (!q.isObject()) throw new ModelFormatException(manifest, name, "\"quantization\" is not an object");
        JsonNode qd = q.get("dtype");
        if (qd == null || !qd.isTextual()) throw new ModelFormatException(manifest, name, "quantization: missing or non-string \"dtype\"");
        String qtype = qd.asText();
        boolean affine = qtype.equals("uint8") || qtype.equals("uint16");
        if (!affine && !qtype.equals("float16")) {
            throw new ModelFormatException(manifest, name, "unsupported quantization dtype \"" + qtype + "\" (supported: uint8, uint16, float16)");
        }
        double scale = 0, min = 0;
        if (affine) {
            scale = finite(manifest, name, q, "scale", qtype);
            min = finite(manifest, name, q, "min", qtype);
        }
        Encoding enc = switch (dtype) {
            case "float32" -> switch (qtype) {
                case "uint8" -> Encoding.UINT8;
                case "uint16" -> Encoding.UINT16;
                default -> Encoding.FLOAT16;
            };
            case "int32" -> switch (qtype) {
                case "uint8" -> Encoding.SKIPPED_INT32_UINT8;
                case "uint16" -> Encoding.SKIPPED_INT32_UINT16;
                default -> throw new ModelFormatException(manifest, name, "float16 quantization of an int32 tensor is not defined (TF.js refuses it too)");
            };
            default -> throw new ModelFormatException(manifest, name, "unsupported dtype \"" + dtype + "\" for " + qtype + " quantization (supported: float32, int32)");
        };
        return new Entry(name, dims, numel, enc, dtype, scale, min);
    }

    private static double finite(Path manifest, String name, JsonNode q, String field, String qtype) throws ModelFormatException {
        JsonNode v = q.get(field);
        if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw new ModelFormatException(manifest, name, qtype + " quantization needs a finite number \"" + field + "\", got " + (v == null ? "none" : v.toString()));
        }
        return v.asDouble();
    }

    /** The shard path as given, refused when absolute or when it leaves the manifest's folder. */
    private static String checkedShardPath(Path manifest, String where, String path) throws ModelFormatException {
        Path p;
        try {
            p = Path.of(path);
        } catch (java.nio.file.InvalidPathException e) {
            throw new ModelFormatException(manifest, where + ": shard path \"" + path + "\" is not a valid file name");
        }
        if (p.isAbsolute() || path.startsWith("/") || path.startsWith("\\") || path.contains("://")) {
            throw new ModelFormatException(manifest, where + ": shard path \"" + path + "\" must be relative to the manifest's folder");
        }
        Path norm = p.normalize();
        if (norm.toString().isEmpty() || norm.startsWith("..")) {
            throw new ModelFormatException(manifest, where + ": shard path \"" + path + "\" leaves the manifest's folder");
        }
        return path;
    }

    private static Path shardPath(Path manifest, String path) {
        Path dir = manifest.getParent();
        return dir == null ? Path.of(path) : dir.resolve(path);
    }

    private static long multiplyExact(Path manifest, String name, long a, long b) throws ModelFormatException {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(manifest, name, "shape's element count overflows");
        }
    }

    private static long addExact(Path manifest, String name, long a, long b) throws ModelFormatException {
        try {
            return Math.addExact(a, b);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(manifest, name, "group byte count overflows");
        }
    }

    private static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
