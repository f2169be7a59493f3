package org.deepfever.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deepfever.core.Tensor;
import org.deepfever.io.ModelFormatException;
import org.deepfever.io.WeightFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in FaceExpressionNet as a user loads and runs it, its builder's errors, and the
 * preprocessing's padding and resize rules on hand-checked cases. (Agreement with face-api's own
 * runtime: src-test's FaceExpressionGoldenTest.)
 */
class FaceExpressionNetTest {
    @TempDir Path tmp;

    /** A w x h RGB image of a smooth pattern (packed ints). */
    private static int[] pattern(int w, int h, int seed) {
        int[] rgb = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = (x * 7 + y * 3 + seed) & 0xff, g = (x * y + seed * 5) & 0xff, b = (255 - x - y + seed) & 0xff;
                rgb[y * w + x] = r << 16 | g << 8 | b;
            }
        }
        return rgb;
    }

    @Test
    void builtInModelRunsABatch() throws IOException {
        try (FaceExpressionNet net = FaceExpressionNet.load(2)) {
            long macs = net.macsPerFace();
            assertTrue(macs > 51_000_000 && macs < 52_000_000, "MACs per face " + macs);
            List<float[]> faces = List.of(FaceExpressionPreprocess.fromRgbInts(pattern(140, 140, 1), 140, 140),
                    FaceExpressionPreprocess.fromRgbInts(pattern(90, 120, 2), 90, 120),
                    FaceExpressionPreprocess.fromRgbInts(pattern(112, 112, 3), 112, 112));
            FaceExpressionNet.Output out = net.run(faces);
            assertEquals(3, out.faces());
            assertArrayEquals(new int[] {3, 7}, out.probabilities().shape().dims());
            assertArrayEquals(new int[] {3, 7}, out.logits().shape().dims());
            assertArrayEquals(new int[] {3, 256}, out.features().shape().dims());
            for (int i = 0; i < 3; i++) {
                float[] p = out.probabilities(i), z = out.logits(i);
                double sum = 0, zsum = 0;
                for (int k = 0; k < 7; k++) {
                    assertTrue(p[k] >= 0 && p[k] <= 1, "probability " + p[k]);
                    sum += p[k];
                    zsum += Math.exp(z[k] - z[0]);
                }
                assertEquals(1.0, sum, 1e-5, "probabilities of face " + i);
                assertEquals(1.0 / zsum, p[0], 1e-5, "probabilities are the softmax of the logits");
                for (float f : out.features(i)) assertTrue(f >= 0 && Float.isFinite(f), "features are means of ReLU outputs: " + f);
                assertTrue(FaceExpressionNet.LABELS.contains(out.label(i)));
            }
            // the same face alone gives the same result as in the batch
            FaceExpressionNet.Output one = net.run(List.of(faces.get(1)));
            float[] alone = one.probabilities(0), inBatch = out.probabilities(1);
            for (int k = 0; k < 7; k++) assertEquals(inBatch[k], alone[k], 1e-6f);
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> net.run(Tensor.zeros(1, 3, 140, 140)));
            assertTrue(bad.getMessage().contains("[N, 3, 112, 112]"), bad.getMessage());
            assertThrows(IllegalArgumentException.class, () -> net.run(List.of(new float[10])));
            assertTrue(net.backendByNode().containsKey("dense1/conv0/depthwise"));
        }
    }

    @Test
    void aNamedBackendRunsEveryNodeAndAnUnknownOneIsRefusedByName() throws IOException {
        try (FaceExpressionNet net = FaceExpressionNet.load(1, null, "reference")) {
            assertEquals(Set.of("reference"), Set.copyOf(net.backendByNode().values()));
            assertEquals(7, net.run(List.of(new float[3 * 112 * 112])).probabilities(0).length);
            net.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> net.run(Tensor.zeros(1, 3, 112, 112)));
            assertTrue(closed.getMessage().contains("built-in") && closed.getMessage().contains("closed"), closed.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FaceExpressionNet.load(1, null, "no-such-backend"));
        assertTrue(e.getMessage().contains("no-such-backend"), e.getMessage());
    }

    @Test
    void loadsTheSameModelFromFiles() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("model"));
        for (String f : List.of(FaceExpressionNet.MANIFEST, FaceExpressionNet.WEIGHTS)) {
            try (var in = FaceExpressionNet.class.getResourceAsStream(FaceExpressionNet.RESOURCE_DIR + f)) {
                Files.write(dir.resolve(f), in.readAllBytes());
            }
        }
        float[] face = FaceExpressionPreprocess.fromRgbInts(pattern(100, 100, 4), 100, 100);
        try (FaceExpressionNet a = FaceExpressionNet.load(1); FaceExpressionNet b = FaceExpressionNet.load(dir.resolve(FaceExpressionNet.MANIFEST), 1)) {
            assertArrayEquals(a.run(List.of(face)).probabilities(0), b.run(List.of(face)).probabilities(0));
        }
        // a truncated weights file: the reader names it and the tensor that does not fit
        byte[] bin = Files.readAllBytes(dir.resolve(FaceExpressionNet.WEIGHTS));
        Files.write(dir.resolve(FaceExpressionNet.WEIGHTS), Arrays.copyOf(bin, bin.length - 10));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> FaceExpressionNet.load(dir.resolve(FaceExpressionNet.MANIFEST), 1));
        assertTrue(e.getMessage().contains("face_expression_model.bin") && e.getMessage().contains("tensor 'fc/bias'"), e.getMessage());
    }

    @Test
    void builderNamesMissingMisshapenAndUnexpectedTensors() throws IOException {
        Map<String, Tensor> weights;
        try (WeightFile w = FaceExpressionNet.builtInWeights()) {
            weights = new LinkedHashMap<>(w.tensors());
        }
        Map<String, Tensor> missing = new LinkedHashMap<>(weights);
        missing.remove("dense2/conv1/pointwise_filter");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> FaceExpressionGraphBuilder.build("m.json", missing));
        assertTrue(e.getMessage().startsWith("m.json: missing key 'dense2/conv1/pointwise_filter'"), e.getMessage());

        Map<String, Tensor> misshapen = new LinkedHashMap<>(weights);
        misshapen.put("fc/weights", Tensor.zeros(7, 256));
        e = assertThrows(ModelLoadException.class, () -> FaceExpressionGraphBuilder.build("m.json", misshapen));
        assertTrue(e.getMessage().contains("'fc/weights': expected shape [256, 7], got [7, 256]"), e.getMessage());

        Map<String, Tensor> extra = new LinkedHashMap<>(weights);
        extra.put("dense4/conv0/bias", Tensor.zeros(3));
        e = assertThrows(ModelLoadException.class, () -> FaceExpressionGraphBuilder.build("m.json", extra));
        assertTrue(e.getMessage().contains("dense4/conv0/bias") && e.getMessage().contains("not part of FaceExpressionNet"), e.getMessage());
    }

    @Test
    void samePaddingIsTensorFlows() {
        assertArrayEquals(new int[] {0, 1}, FaceExpressionGraphBuilder.samePadding(112, 3, 2));
        assertArrayEquals(new int[] {1, 1}, FaceExpressionGraphBuilder.samePadding(56, 3, 1));
        assertArrayEquals(new int[] {1, 1}, FaceExpressionGraphBuilder.samePadding(7, 3, 2));
        assertArrayEquals(new int[] {0, 0}, FaceExpressionGraphBuilder.samePadding(5, 1, 1));
    }

    @Test
    void padToSquareCentresWithTheOddPixelAfter() {
        // 1 x 4 image (w 4, h 1): 3 rows of padding, 1 above, 2 below (round(1.5) = 2 after)
        float[] hwc = new float[12];
        Arrays.fill(hwc, 9f);
        float[] sq = FaceExpressionPreprocess.padToSquare(hwc, 4, 1, 4);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) assertEquals(y == 1 ? 9f : 0f, sq[(y * 4 + x) * 3], "row " + y + " col " + x);
        }
        // 3 wide x 5 tall: 2 columns, 1 left and 1 right
        float[] tall = new float[3 * 5 * 3];
        Arrays.fill(tall, 5f);
        float[] sq2 = FaceExpressionPreprocess.padToSquare(tall, 3, 5, 5);
        for (int x = 0; x < 5; x++) assertEquals(x >= 1 && x <= 3 ? 5f : 0f, sq2[(2 * 5 + x) * 3 + 1], "col " + x);
    }

    @Test
    void resizeIsLegacyBilinear() {
        // 4x4 -> 2x2: src = dst * 2 exactly, so the outputs are input pixels (0,0), (2,0), (0,2), (2,2)
        float[] src = new float[4 * 4 * 3];
        for (int i = 0; i < 16; i++) for (int c = 0; c < 3; c++) src[i * 3 + c] = i * 10 + c;
        float[] out = FaceExpressionPreprocess.resizeBilinearLegacy(src, 4, 4, 2, 2);
        assertArrayEquals(new float[] {0, 1, 2, 20, 21, 22, 80, 81, 82, 100, 101, 102}, out);
        // 2x1 -> 3x1 (one row): src x = 0, 2/3, 4/3 -> 0, 2/3 of the way, then clamped to the last pixel
        float[] row = {0, 0, 0, 30, 60, 90};
        float[] up = FaceExpressionPreprocess.resizeBilinearLegacy(row, 2, 1, 3, 1);
        assertArrayEquals(new float[] {0, 0, 0, 20, 40, 60, 30, 60, 90}, up, 1e-5f);
    }

    @Test
    void preprocessNormalisesAndChecksSizes() {
        int[] rgb = new int[112 * 112];
        Arrays.fill(rgb, 0xff8000);
        float[] x = FaceExpressionPreprocess.fromRgbInts(rgb, 112, 112);
        int plane = 112 * 112;
        assertEquals((255f - 122.782f) / 255f, x[0]);
        assertEquals((128f - 117.001f) / 255f, x[plane + 77]);
        assertEquals((0f - 104.298f) / 255f, x[2 * plane + plane - 1]);
        byte[] bytes = new byte[112 * 112 * 3];
        for (int i = 0; i < plane; i++) {
            bytes[3 * i] = (byte) 0xff;
            bytes[3 * i + 1] = (byte) 0x80;
        }
        assertArrayEquals(x, FaceExpressionPreprocess.fromRgbBytes(bytes, 112, 112));
        assertThrows(IllegalArgumentException.class, () -> FaceExpressionPreprocess.fromRgbInts(new int[10], 3, 3));
        assertThrows(IllegalArgumentException.class, () -> FaceExpressionPreprocess.fromRgbBytes(new byte[9], 0, 3));
        float[] batch = new float[2 * 3 * plane];
        FaceExpressionPreprocess.fromRgbInts(rgb, 112, 112, batch, 3 * plane);
        assertEquals(x[5], batch[3 * plane + 5]);
        assertThrows(IllegalArgumentException.class, () -> FaceExpressionPreprocess.fromRgbInts(rgb, 112, 112, batch, 4 * plane));
    }
}
