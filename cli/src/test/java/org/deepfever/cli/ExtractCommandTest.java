package org.deepfever.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVRecord;
import org.deepfever.core.Tensor;
import org.deepfever.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code fever extract} end to end (in process) on the deepfever-mini golden model and reads
 * its outputs back with real parsers (Jackson plus the published JSON schema, a CSV parser, the
 * project's .npy reader): good crops (features against PyTorch's), a photo with faces, a photo with
 * none, a corrupt file, a non-image file, and file names that need quoting and escaping.
 */
class ExtractCommandTest {
    static final double TOLERANCE = 1e-4;
    static final List<String> CLASSES = List.of("neutral", "happy", "sad", "surprise", "fear", "disgust", "anger", "contempt");
    static Path mini;
    static float[][] expectedFeatures;
    static int embeddingLength;

    @TempDir Path tmp;

    @BeforeAll
    static void locate() throws IOException {
        mini = TestFiles.fixtures().resolve("deepfever-mini");
        expectedFeatures = rows(Npy.read(mini.resolve("features.npy")));
        embeddingLength = Npy.read(mini.resolve("embedding.npy")).dim(1);
    }

    static int run(String... args) {
        return FeverCommand.commandLine().execute(args);
    }

    /** Runs the command with stdout captured; returns what it printed. */
    static String stdout(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            run(args);
        } finally {
            System.setOut(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    static float[][] rows(Tensor t) {
        float[][] out = new float[t.dim(0)][t.dim(1)];
        for (int r = 0; r < out.length; r++) for (int c = 0; c < out[r].length; c++) out[r][c] = t.get(r, c);
        return out;
    }

    static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "length");
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    static List<Path> faces() throws IOException {
        try (var s = Files.list(mini.resolve("faces"))) {
            return s.sorted().toList();
        }
    }

    @Test
    void cropsMatchPyTorchInEveryFormat() throws IOException {
        List<Path> faces = faces();
        assertEquals(expectedFeatures.length, faces.size());
        for (String format : List.of("model.pth", "model.safetensors", "model.onnx")) {
            Path out = tmp.resolve(format + ".jsonl");
            int rc = run("extract", "--model", mini.resolve(format).toString(), "--out", out.toString(), mini.resolve("faces").toString());
            assertEquals(0, rc, "exit code for " + format);
            List<JsonNode> lines = Outputs.jsonl(out);
            assertEquals(faces.size(), lines.size(), format + ": one line per face");
            for (int i = 0; i < lines.size(); i++) {
                JsonNode line = lines.get(i);
                assertEquals(faces.get(i).toString(), line.get("image").asText());
                assertTrue(line.get("face").isNull(), "a 140x140 image is the crop: " + line);
                double d = maxDiff(expectedFeatures[i], Outputs.floats(line.get("features")));
                assertTrue(d <= TOLERANCE, format + " face " + i + ": max |diff| " + d);
                assertEquals(embeddingLength, line.get("embedding").size());
                JsonNode scores = line.get("expression").get("scores");
                List<String> keys = new ArrayList<>();
                scores.fieldNames().forEachRemaining(keys::add);
                assertEquals(CLASSES, keys, "scores keyed by class, in class order");
                double sum = 0;
                String best = null;
                for (String k : keys) {
                    sum += scores.get(k).doubleValue();
                    if (best == null || scores.get(k).doubleValue() > scores.get(best).doubleValue()) best = k;
                }
                assertEquals(1.0, sum, 1e-5, "probabilities sum to 1");
                assertEquals(best, line.get("expression").get("label").asText());
                assertFalse(line.has("note"), "a user's model carries no untrained note");
            }
        }
    }

    /**
     * A run long enough for lanes (at least 8 batches per thread: here 40 images, batch 2, two
     * threads) runs two batches at once on the real engine: every face still matches PyTorch, in
     * input order, and the output is byte for byte that of the same run on one thread.
     */
    @Test
    void batchesRunningAtOnceGiveTheOneThreadOutput() throws IOException {
        List<Path> faces = faces();
        List<String> args = new ArrayList<>(List.of("extract", "--model", mini.resolve("model.pth").toString(), "--batch", "2"));
        int n = 40;
        assertEquals(2, ExtractCommand.lanes(2, 2, n, null), "the run below goes through two lanes");
        for (int i = 0; i < n; i++) args.add(faces.get(i % faces.size()).toString());
        Path lanes = tmp.resolve("lanes.jsonl"), one = tmp.resolve("one.jsonl");
        List<String> twoThreads = new ArrayList<>(args);
        twoThreads.addAll(List.of("--threads", "2", "--out", lanes.toString()));
        List<String> oneThread = new ArrayList<>(args);
        oneThread.addAll(List.of("--threads", "1", "--out", one.toString()));
        assertEquals(0, run(twoThreads.toArray(String[]::new)));
        assertEquals(0, run(oneThread.toArray(String[]::new)));
        List<JsonNode> lines = Outputs.jsonl(lanes);
        assertEquals(n, lines.size());
        for (int i = 0; i < n; i++) {
            assertEquals(faces.get(i % faces.size()).toString(), lines.get(i).get("image").asText(), "line " + i);
            double d = maxDiff(expectedFeatures[i % faces.size()], Outputs.floats(lines.get(i).get("features")));
            assertTrue(d <= TOLERANCE, "line " + i + ": max |diff| " + d);
        }
        assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(lanes), "two lanes write what one thread writes");
    }

    @Test
    void badInputsAreReportedAndTheRunGoesOn() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("in"));
        List<Path> faces = faces();
        Files.copy(faces.get(0), dir.resolve("a_good.png"));
        byte[] png = Files.readAllBytes(faces.get(1));
        Files.write(dir.resolve("b_corrupt.png"), Arrays.copyOf(png, png.length / 3));
        BufferedImage blank = new BufferedImage(320, 240, BufferedImage.TYPE_INT_RGB);
        ImageIO.write(blank, "png", dir.resolve("c_noface.png").toFile());
        Files.copy(TestFiles.photoWithFace(), dir.resolve("d_photo.jpg"));
        Files.copy(TestFiles.twoFaces(), dir.resolve("d_two_faces.png"));
        Files.writeString(dir.resolve("e_skipped.txt"), "not an image, and not picked up by the directory walk");
        Path text = Files.writeString(tmp.resolve("notes.png"), "this is text, not a PNG");
        Path out = tmp.resolve("out.jsonl");

        int rc = run("extract", "--model", mini.resolve("model.safetensors").toString(), "--out", out.toString(),
                dir.toString(), text.toString());
        assertEquals(1, rc, "some inputs failed");
        List<JsonNode> lines = Outputs.jsonl(out);
        List<String> images = lines.stream().map(l -> l.get("image").asText()).toList();
        assertEquals(List.of(dir + "/a_good.png", dir + "/b_corrupt.png", dir + "/c_noface.png", dir + "/d_photo.jpg",
                dir + "/d_two_faces.png", dir + "/d_two_faces.png", text.toString()), images);
        assertTrue(lines.get(0).get("face").isNull() && lines.get(0).has("features"), lines.get(0).toString());
        assertTrue(lines.get(1).get("error").asText().length() > 0, lines.get(1).toString());
        assertEquals(Set.of("image", "faces"), keys(lines.get(2)));
        assertEquals(0, lines.get(2).get("faces").intValue());
        for (int i = 3; i <= 5; i++) {
            JsonNode box = lines.get(i).get("face");
            assertTrue(box.isObject(), lines.get(i).toString());
            for (String k : List.of("x", "y", "w", "h")) assertTrue(box.get(k).isInt(), k + " in " + box);
            assertTrue(lines.get(i).get("features").isArray());
        }
        assertNotEquals(lines.get(4), lines.get(5), "two different faces");
        assertEquals(Set.of("image", "error"), keys(lines.get(6)));
        try (var s = Files.list(tmp)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    static Set<String> keys(JsonNode n) {
        Set<String> k = new TreeSet<>();
        n.fieldNames().forEachRemaining(k::add);
        return k;
    }

    @Test
    void defaultModelLinesParseToo() throws IOException {
        List<JsonNode> lines = Outputs.jsonl(stdout("extract", mini.resolve("faces").toString()));
        assertEquals(faces().size(), lines.size(), "one line per image: each crop holds at most one face");
        long withFace = lines.stream().filter(l -> l.has("features")).count();
        assertTrue(withFace >= faces().size() - 1, "the default model's detector finds the faces of the crops: " + lines);
        for (JsonNode l : lines) {
            assertTrue(l.has("features") ? l.has("expression") && !l.has("note") : l.get("faces").intValue() == 0, l.toString());
        }
    }

    @Test
    void csvAndNpyOutputs() throws IOException {
        List<Path> faces = faces();
        Path csv = tmp.resolve("f.csv");
        assertEquals(0, run("extract", "--model", mini.resolve("model.pth").toString(), "--format", "csv",
                "--out", csv.toString(), "--batch", String.valueOf(faces.size() - 1), mini.resolve("faces").toString())); // a partial last batch
        List<CSVRecord> rows = Outputs.csv(csv);
        assertEquals(faces.size(), rows.size());
        int width = expectedFeatures[0].length;
        for (int r = 0; r < rows.size(); r++) {
            CSVRecord row = rows.get(r);
            assertEquals(5 + width, row.size());
            assertEquals(faces.get(r).toString(), row.get("image"));
            assertEquals("", row.get("x"), "the whole image was the crop");
            float[] f = new float[width];
            for (int i = 0; i < width; i++) f[i] = Float.parseFloat(row.get("f" + i));
            assertTrue(maxDiff(expectedFeatures[r], f) <= TOLERANCE, "row " + r);
        }

        Path npy = tmp.resolve("out/features.npy");
        assertEquals(0, run("extract", "--model", mini.resolve("model.onnx").toString(), "--format", "npy",
                "--out", npy.toString(), mini.resolve("faces").toString()));
        float[][] got = rows(Npy.read(npy));
        assertEquals(faces.size(), got.length);
        for (int i = 0; i < got.length; i++) assertTrue(maxDiff(expectedFeatures[i], got[i]) <= TOLERANCE, "row " + i);
        List<CSVRecord> index = Outputs.csv(tmp.resolve("out/index.csv"));
        assertEquals(faces.size(), index.size());
        for (int i = 0; i < index.size(); i++) {
            assertEquals(String.valueOf(i), index.get(i).get("row"));
            assertEquals(faces.get(i).toString(), index.get(i).get("image"));
        }
    }

    /** Names that need CSV quoting and JSON escaping come back intact through all three formats. */
    @Test
    void awkwardFileNamesSurviveEveryFormat() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("odd dir, \"quoted\""));
        List<String> names = List.of("a,b \"c\" d.png", "naïve café 表情.png", "tab\there.png", "new\nline.png", "back\\slash'.png");
        List<Path> faces = faces();
        for (int i = 0; i < names.size(); i++) Files.copy(faces.get(i % faces.size()), dir.resolve(names.get(i)));
        List<String> expected = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.map(Path::toString).sorted().forEach(expected::add);
        }
        String model = mini.resolve("model.safetensors").toString();

        Path jsonl = tmp.resolve("odd.jsonl");
        assertEquals(0, run("extract", "--model", model, "--out", jsonl.toString(), dir.toString()));
        assertEquals(expected, Outputs.jsonl(jsonl).stream().map(l -> l.get("image").asText()).toList());

        Path csv = tmp.resolve("odd.csv");
        assertEquals(0, run("extract", "--model", model, "--format", "csv", "--out", csv.toString(), dir.toString()));
        assertEquals(expected, Outputs.csv(csv).stream().map(r -> r.get("image")).toList());

        Path npy = tmp.resolve("odd/features.npy");
        assertEquals(0, run("extract", "--model", model, "--format", "npy", "--out", npy.toString(), dir.toString()));
        assertEquals(expected.size(), Npy.read(npy).dim(0));
        assertEquals(expected, Outputs.csv(tmp.resolve("odd/index.csv")).stream().map(r -> r.get("image")).toList());
    }

    @Test
    void usageAndModelErrorsExitTwo() throws IOException {
        assertEquals(2, run("extract"));
        assertEquals(2, run("extract", "--format", "npy", "x.png"));
        Path bogus = Files.writeString(tmp.resolve("bogus.pth"), "PK\u0003\u0004 not really a zip");
        assertEquals(2, run("extract", "--model", bogus.toString(), faces().get(0).toString()));
        assertEquals(2, run("info", "--model", tmp.resolve("missing.onnx").toString()));
    }

    /** Runs of a few images on the CPU take the scalar kernels, which are compiled at once; longer runs and GPUs do not. */
    @Test
    void shortRunsAreThoseOfAFewImagesOnTheCpu() {
        assertTrue(ExtractCommand.shortRun(1, null));
        assertTrue(ExtractCommand.shortRun(ExtractCommand.SHORT_RUN_MAX_IMAGES, "cpu"));
        assertFalse(ExtractCommand.shortRun(ExtractCommand.SHORT_RUN_MAX_IMAGES + 1, null));
        assertFalse(ExtractCommand.shortRun(1, "cuda"));
    }
}
