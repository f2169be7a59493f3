package org.deepfever.faces.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test helpers: the committed golden sets, classpath resources, .npy reading, image comparison. */
public final class TestData {

    private TestData() {}

    /**
     * The committed golden sets: {@code -Dfever.fixtures} (set by the parent POM), else the
     * repository's src-test/golden seen from the cli module.
     *
     * @throws IllegalStateException if the folder is missing (the sets are part of the repository)
     */
    public static Path fixtures() {
        String p = System.getProperty("fever.fixtures");
        Path dir = p != null ? Path.of(p) : Path.of("../src-test/golden");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("golden sets not found at " + dir.toAbsolutePath() + " (system property fever.fixtures)");
        }
        return dir;
    }

    /**
     * A file or folder of the golden sets, e.g. {@code deepfever-mini/faces/00.png}.
     *
     * @throws IllegalStateException if it is missing
     */
    public static Path fixture(String rel) {
        Path f = fixtures().resolve(rel);
        if (!Files.exists(f)) {
            throw new IllegalStateException("golden file missing: " + f.toAbsolutePath());
        }
        return f;
    }

    /** A test resource's bytes, by absolute classpath name (e.g. "/images/astronaut.png"). */
    public static byte[] resource(String name) {
        try (InputStream in = TestData.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static RgbImage resourceImage(String name) throws IOException {
        return ImageDecoder.decode(resource(name), name);
    }

    /** A float32 little-endian, C-order .npy file: its data (the header is checked, then skipped). */
    public static float[] readNpyFloat32(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        if (b.length < 10 || (b[0] & 0xFF) != 0x93 || b[1] != 'N' || b[2] != 'U' || b[3] != 'M' || b[4] != 'P' || b[5] != 'Y') {
            throw new IOException(file + ": not a .npy file");
        }
        int major = b[6];
        int headerLen;
        int start;
        if (major == 1) {
            headerLen = (b[8] & 0xFF) | (b[9] & 0xFF) << 8;
            start = 10;
        } else {
            headerLen = ByteBuffer.wrap(b, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            start = 12;
        }
        String header = new String(b, start, headerLen, StandardCharsets.ISO_8859_1);
        if (!header.contains("'descr': '<f4'") || header.contains("'fortran_order': True")) {
            throw new IOException(file + ": not little-endian float32 C-order: " + header);
        }
        int off = start + headerLen;
        ByteBuffer bb = ByteBuffer.wrap(b, off, b.length - off).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(b.length - off) / 4];
        bb.asFloatBuffer().get(out);
        return out;
    }

    /** Largest absolute difference of two same-sized images over every channel. */
    public static int maxDiff(RgbImage a, RgbImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new AssertionError("sizes differ: " + a + " vs " + b);
        }
        int m = 0;
        byte[] x = a.rgb(), y = b.rgb();
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs((x[i] & 0xFF) - (y[i] & 0xFF)));
        }
        return m;
    }

    /** How many channel values differ. */
    public static int diffCount(RgbImage a, RgbImage b) {
        int n = 0;
        byte[] x = a.rgb(), y = b.rgb();
        for (int i = 0; i < x.length; i++) {
            if (x[i] != y[i]) n++;
        }
        return n;
    }
}
