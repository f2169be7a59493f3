package org.deepfever.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deepfever.core.Storage;
import org.deepfever.core.Tensor;

/** Shared helpers: fixture paths, zip rewriting, small file builders. */
final class TestFiles {
    private TestFiles() {}

    /**
     * The golden sets folder: system property fever.fixtures (set by the parent POM), else the
     * repository's src-test/golden seen from a module directory.
     */
    static Path fixtures() {
        String p = System.getProperty("fever.fixtures");
        Path dir = p == null ? Path.of("../src-test/golden") : Path.of(p);
        if (!Files.isDirectory(dir.resolve("deepfever-mini"))) fail("golden sets not found at " + dir.toAbsolutePath() + " (system property fever.fixtures)");
        return dir;
    }

    static Path mini(String file) { return fixtures().resolve("deepfever-mini").resolve(file); }

    static Path resource(String name) {
        try {
            return Path.of(TestFiles.class.getResource("/" + name).toURI());
        } catch (Exception e) {
            throw new AssertionError("missing test resource " + name, e);
        }
    }

    /** All entries of a zip, in order. */
    static Map<String, byte[]> unzip(Path zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (ZipEntry e : java.util.Collections.list(z.entries())) {
                try (InputStream in = z.getInputStream(e)) { out.put(e.getName(), in.readAllBytes()); }
            }
        }
        return out;
    }

    /** Writes entries as a zip, stored (uncompressed) or deflated. */
    static void zip(Path dst, Map<String, byte[]> entries, boolean deflate) throws IOException {
        try (OutputStream os = Files.newOutputStream(dst); ZipOutputStream z = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                if (!deflate) {
                    ze.setMethod(ZipEntry.STORED);
                    ze.setSize(e.getValue().length);
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setCrc(crc.getValue());
                } else {
                    ze.setMethod(ZipEntry.DEFLATED);
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    /** The first {@code n} bytes of {@code src}, written to {@code dst}. */
    static Path truncate(Path src, Path dst, long n) throws IOException {
        byte[] all = Files.readAllBytes(src);
        Files.write(dst, Arrays.copyOf(all, (int) n));
        return dst;
    }

    /** Builds a safetensors file from a JSON header and a data section. */
    static Path safetensors(Path dst, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Files.write(dst, b.array());
        return dst;
    }

    static byte[] leFloats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static byte[] readAll(InputStream in) throws IOException { return in.readAllBytes(); }

    /** Whether the tensor's elements are a slice of a memory-mapped file. */
    static boolean isMapped(Tensor t) {
        return t.storage() instanceof Storage.Segment s && s.segment().isMapped();
    }

    /** Same shape and bit-identical elements. */
    static void assertBitExact(String name, Tensor expected, Tensor actual) {
        assertEquals(expected.shape(), actual.shape(), name + ": shape");
        float[] a = expected.toFloatArray(), b = actual.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                fail(name + ": element " + i + " differs: " + a[i] + " vs " + b[i]);
            }
        }
    }

    static void assertContains(String haystack, String... needles) {
        for (String n : needles) assertTrue(haystack.contains(n), "expected \"" + n + "\" in: " + haystack);
    }
}
