package org.deepfever.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Tensor;
import org.deepfever.io.Npy;
import org.deepfever.io.WeightFile;

/** Shared helpers for the model and API tests: fixture paths, state dicts, a safetensors writer. */
public final class ModelTestUtil {
    public static final String MINI = "deepfever-mini";
    public static final String FULL_BACKBONE = "deepfever-mini-fullbackbone";

    private ModelTestUtil() {}

    /**
     * The golden sets folder: system property fever.fixtures (set by the parent POM), else the
     * repository's src-test/golden seen from a module directory.
     */
    public static Path fixtures() {
        String p = System.getProperty("fever.fixtures");
        Path dir = p == null ? Path.of("../src-test/golden") : Path.of(p);
        if (!Files.isDirectory(dir.resolve(MINI))) fail("golden sets not found at " + dir.toAbsolutePath() + " (system property fever.fixtures)");
        return dir;
    }

    public static Path fixture(String set, String file) {
        Path f = fixtures().resolve(set).resolve(file);
        if (!Files.isRegularFile(f)) fail("missing fixture " + f);
        return f;
    }

    /** A weight file's float tensors as heap copies in a mutable map (file order). */
    public static LinkedHashMap<String, Tensor> stateDict(Path file) throws IOException {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        try (WeightFile w = WeightFile.open(file)) {
            w.tensors().forEach((k, v) -> out.put(k, v.copy()));
        }
        assertTrue(out.size() > 100, "expected a DeepFEVER state dict in " + file + ", got " + out.size() + " tensors");
        return out;
    }

    /** An .npy fixture as a heap tensor. */
    public static Tensor npy(String set, String file) throws IOException {
        return Npy.read(fixture(set, file));
    }

    /** Row i of a [N, ...] tensor as a flat array. */
    public static float[] row(Tensor t, int i) {
        return t.slice(0, i, 1).toFloatArray();
    }

    /** The faces of an [N,3,140,140] tensor, each as 3*140*140 floats. */
    public static List<float[]> faces(Tensor input) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < input.dim(0); i++) out.add(row(input, i));
        return out;
    }

    /** Writes float32 tensors as a safetensors file (header padded to 8 bytes). */
    public static Path writeSafetensors(Path dst, Map<String, Tensor> tensors) throws IOException {
        StringBuilder h = new StringBuilder("{");
        long off = 0;
        List<float[]> data = new ArrayList<>();
        for (var e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long bytes = t.size() * 4;
            if (h.length() > 1) h.append(',');
            h.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(Arrays.toString(t.shape().dims()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(off).append(',').append(off + bytes).append("]}");
            off += bytes;
            data.add(t.toFloatArray());
        }
        h.append('}');
        while ((h.length() + 8) % 8 != 0) h.append(' ');
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(dst)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hb.length).array());
            out.write(hb);
            for (float[] a : data) {
                ByteBuffer b = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : a) b.putFloat(f);
                out.write(b.array());
            }
        }
        return dst;
    }

    /** Same length and every element within tol (absolute). */
    public static void assertClose(String what, float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        if (!(worst <= tol)) fail(what + ": max abs diff " + worst + " at " + at + " (" + expected[at] + " vs " + actual[at] + ") > " + tol);
    }

    /** Same length and bit-identical elements. */
    public static void assertBitExact(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " differs: " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    public static void assertContains(String haystack, String... needles) {
        assertTrue(haystack != null, "message is null");
        for (String n : needles) assertTrue(haystack.contains(n), "expected \"" + n + "\" in: " + haystack);
    }
}
