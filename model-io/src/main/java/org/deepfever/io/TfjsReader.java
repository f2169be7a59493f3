package org.deepfever.io;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
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
 * UTF-8 without duplicate keys or trailing content (parsed by {@link JsonTree}, within its depth,
 * number and string limits), every field of the right type, shape dimensions JSON integers (no
 * fraction or exponent) in 0..{@value Integer#MAX_VALUE}, quantization {@code scale} and
 * {@code min} finite numbers, shard paths relative and inside the manifest's folder, tensor names
 * unique, and each group's shards exactly as long as its tensors need (shorter: which tensor does
 * not fit; longer: by how much).
 */
public final class TfjsReader {
    /** Manifests larger than this are refused (face-api's are a few KB, big converted models a few hundred KB). */
    static final long MAX_MANIFEST = 64L * 1024 * 1024;

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
        if (manifestJson.length > MAX_MANIFEST) {
            throw new ModelFormatException(manifest, "manifest of " + manifestJson.length + " bytes is larger than " + MAX_MANIFEST + " bytes; not a TF.js weights manifest?");
        }
        String text = utf8(manifest, manifestJson);
        if (text.chars().allMatch(c -> c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            throw new ModelFormatException(manifest, "empty file; expected a TF.js weights manifest (a JSON array of groups)");
        }
        Object root;
        try {
            root = JsonTree.parse(text, MAX_MANIFEST);
        } catch (JsonTree.JsonException e) {
            throw new ModelFormatException(manifest, null, "not valid JSON: " + e.getMessage()
                    + (e.line() == 0 ? "" : " (line " + e.line() + ", column " + e.column() + ")"), e);
        }
        if (root instanceof Map<?, ?> m && m.containsKey("weightsManifest")) root = m.get("weightsManifest");
        if (!(root instanceof List<?> groups)) throw new ModelFormatException(manifest, "expected a JSON array of weight groups (or a model.json with \"weightsManifest\"), got " + kind(root));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (int gi = 0; gi < groups.size(); gi++) {
            readGroup(manifest, gi, groups.get(gi), shards, tensors, skipped);
        }
        return new WeightFile(manifest, "tfjs", tensors, skipped, null);
    }

    /**
     * The manifest as text: strict UTF-8 (as JSON interchange requires and TF.js reads it), a leading
     * byte order mark dropped; a malformed byte is an error naming its offset rather than a silent U+FFFD.
     */
    private static String utf8(Path manifest, byte[] bytes) throws ModelFormatException {
        int start = bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF ? 3 : 0;
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, start, bytes.length - start);
        CharBuffer out = CharBuffer.allocate(bytes.length - start);
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) r = dec.flush(out);
        if (r.isError()) throw new ModelFormatException(manifest, "not valid JSON: invalid UTF-8 at byte " + in.position() + " (JSON text must be UTF-8)");
        return out.flip().toString();
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

    private static void readGroup(Path manifest, int gi, Object groupValue, ShardSource shards,
                                  Map<String, Tensor> tensors, Map<String, String> skipped) throws IOException {
        String where = "group " + gi;
        if (!(groupValue instanceof Map<?, ?> group)) throw new ModelFormatException(manifest, where + ": expected an object with \"paths\" and \"weights\", got " + kind(groupValue));
        if (!(group.get("paths") instanceof List<?> paths)) throw new ModelFormatException(manifest, where + ": missing or non-array \"paths\"");
        if (!(group.get("weights") instanceof List<?> weights)) throw new ModelFormatException(manifest, where + ": missing or non-array \"weights\"");
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
            if (!(paths.get(pi) instanceof String p) || p.isEmpty()) throw new ModelFormatException(manifest, where + ": paths[" + pi + "] is not a non-empty string");
            String path = checkedShardPath(manifest, where, p);
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

    private static Entry entry(Path manifest, String where, Object entryValue) throws ModelFormatException {
        if (!(entryValue instanceof Map<?, ?> w)) throw new ModelFormatException(manifest, where + ": expected an object, got " + kind(entryValue));
        if (!(w.get("name") instanceof String name) || name.isEmpty()) throw new ModelFormatException(manifest, where + ": missing or non-string \"name\"");
        if (!(w.get("shape") instanceof List<?> shape)) throw new ModelFormatException(manifest, name, "missing or non-array \"shape\"");
        int[] dims = new int[shape.size()];
        long numel = 1;
        for (int i = 0; i < dims.length; i++) {
            // Only a JSON integer (no fraction or exponent: JsonTree gives those as BigDecimal, so 3.0
            // is refused) within int range; JsonTree gives integers beyond long as BigInteger.
            Object d = shape.get(i);
            if (!(d instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) {
                throw new ModelFormatException(manifest, name, "shape " + json(shape) + ": dimension " + json(d) + " is not an integer in 0.." + Integer.MAX_VALUE);
            }
            dims[i] = v.intValue();
            numel = multiplyExact(manifest, name, numel, dims[i]);
        }
        if (numel > Integer.MAX_VALUE) throw new ModelFormatException(manifest, name, "shape " + json(shape) + " has " + numel + " elements, more than a tensor can hold");
        if (!(w.get("dtype") instanceof String dtype)) throw new ModelFormatException(manifest, name, "missing or non-string \"dtype\"");
        Object q = w.get("quantization");
        if (q == null || q == JsonTree.NULL) {
            Encoding enc = switch (dtype) {
                case "float32" -> Encoding.FLOAT32;
                case "int32" -> Encoding.SKIPPED_INT32;
                case "bool" -> Encoding.SKIPPED_BOOL;
                case "complex64" -> Encoding.SKIPPED_COMPLEX64;
                default -> throw new ModelFormatException(manifest, name, "unsupported dtype \"" + dtype + "\" (supported: float32, and int32, bool, complex64 which are skipped)");
            };
            return new Entry(name, dims, numel, enc, dtype, 0, 0);
        }
        if (!(q instanceof Map<?, ?> quant)) throw new ModelFormatException(manifest, name, "\"quantization\" is not an object");
        if (!(quant.get("dtype") instanceof String qtype)) throw new ModelFormatException(manifest, name, "quantization: missing or non-string \"dtype\"");
        boolean affine = qtype.equals("uint8") || qtype.equals("uint16");
        if (!affine && !qtype.equals("float16")) {
            throw new ModelFormatException(manifest, name, "unsupported quantization dtype \"" + qtype + "\" (supported: uint8, uint16, float16)");
        }
        double scale = 0, min = 0;
        if (affine) {
            scale = finite(manifest, name, quant, "scale", qtype);
            min = finite(manifest, name, quant, "min", qtype);
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

    /** {@code q[field]} as a double: any JSON number (Long, BigInteger or BigDecimal) whose double value is finite. */
    private static double finite(Path manifest, String name, Map<?, ?> q, String field, String qtype) throws ModelFormatException {
        Object v = q.get(field);
        if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
            throw new ModelFormatException(manifest, name, qtype + " quantization needs a finite number \"" + field + "\", got " + (v == null ? "none" : json(v)));
        }
        return n.doubleValue();
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

    /** What kind of JSON value {@code v} (a {@link JsonTree} value) is, for error messages. */
    private static String kind(Object v) {
        if (v instanceof List<?>) return "an array";
        if (v instanceof Map<?, ?>) return "an object";
        if (v instanceof String) return "a string";
        if (v instanceof Number) return "a number";
        if (v instanceof Boolean) return "a boolean";
        return "null";
    }

    /** {@code v} (a {@link JsonTree} value) written back as compact JSON, for error messages: {@code [2,-1]}, {@code "x"}. */
    private static String json(Object v) {
        if (v instanceof String s) return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + '"';
        if (v instanceof List<?> l) {
            StringJoiner j = new StringJoiner(",", "[", "]");
            for (Object e : l) j.add(json(e));
            return j.toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringJoiner j = new StringJoiner(",", "{", "}");
            for (Map.Entry<?, ?> e : m.entrySet()) j.add(json(e.getKey()) + ":" + json(e.getValue()));
            return j.toString();
        }
        return String.valueOf(v); // Long, BigInteger, BigDecimal (as written: 3.0, 1E+2), Boolean, JsonTree.NULL ("null")
    }
}
