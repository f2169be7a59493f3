package org.deepfever.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code fever extract} end to end (in process) on the deepfever-mini fixture model and checks
 * its output line by line: good crops (features against PyTorch's), a photo with faces, a photo with
 * none, a corrupt file and a non-image file.
 */
class ExtractCommandTest {
    static final double TOLERANCE = 1e-4;
    static Path fixtures;
    static float[][] expectedFeatures;

    @TempDir Path tmp;

    @BeforeAll
    static void locate() throws IOException {
        fixtures = Path.of(System.getProperty("fever.fixtures", "../src-test/golden"));
        expectedFeatures = readNpy2d(fixtures.resolve("deepfever-mini/features.npy"));
        assertTrue(expectedFeatures.length >= 3, "the mini set holds at least 3 faces");
    }

    static int run(String... args) {
        return FeverCommand.commandLine().execute(args);
    }

    static float[][] readNpy2d(Path p) throws IOException {
        byte[] b = Files.readAllBytes(p);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        String header = new String(b, 10, headerLen);
        Matcher m = Pattern.compile("\\((\\d+), (\\d+)\\)").matcher(header);
        assertTrue(m.find(), header);
        int rows = Integer.parseInt(m.group(1)), cols = Integer.parseInt(m.group(2));
        ByteBuffer bb = ByteBuffer.wrap(b, 10 + headerLen, rows * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
        float[][] out = new float[rows][cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r][c] = bb.getFloat();
        return out;
    }

    static float[] floats(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":\\[([^\\]]*)\\]").matcher(json);
        assertTrue(m.find(), "no " + key + " in " + json);
        String[] parts = m.group(1).split(",");
        float[] f = new float[parts.length];
        for (int i = 0; i < parts.length; i++) f[i] = Float.parseFloat(parts[i]);
        return f;
    }

    static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "length");
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    @Test
    void cropsMatchPyTorchInEveryFormat() throws IOException {
        for (String format : List.of("model.pth", "model.safetensors", "model.onnx")) {
            Path out = tmp.resolve(format + ".jsonl");
            int rc = run("extract", "--model", fixtures.resolve("deepfever-mini/" + format).toString(), "--out", out.toString(),
                    fixtures.resolve("deepfever-mini/faces").toString());
            assertEquals(0, rc, "exit code for " + format);
            List<String> lines = Files.readAllLines(out);
            assertEquals(expectedFeatures.length, lines.size(), format + ": one line per face");
            for (int i = 0; i < expectedFeatures.length; i++) {
                String line = lines.get(i);
                assertTrue(line.contains("\"image\":\"" + fixtures.resolve("deepfever-mini/faces") + "/0" + i + ".png\""), line);
                assertTrue(line.contains("\"face\":null"), "a 140x140 image is the crop: " + line);
                double d = maxDiff(expectedFeatures[i], floats(line, "features"));
                assertTrue(d <= TOLERANCE, format + " face " + i + ": max |diff| " + d);
                assertEquals(32, floats(line, "embedding").length);
                assertTrue(line.matches(".*\"expression\":\\{\"label\":\"(neutral|happy|sad|surprise|fear|disgust|anger|contempt)\",\"scores\":\\{\"neutral\":.*\"contempt\":[^}]+}}.*"), line);
            }
        }
    }

    @Test
    void badInputsAreReportedAndTheRunGoesOn() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("in"));
        Files.copy(fixtures.resolve("deepfever-mini/faces/00.png"), dir.resolve("a_good.png"));
        byte[] png = Files.readAllBytes(fixtures.resolve("deepfever-mini/faces/01.png"));
        Files.write(dir.resolve("b_corrupt.png"), Arrays.copyOf(png, png.length / 3));
        BufferedImage blank = new BufferedImage(320, 240, BufferedImage.TYPE_INT_RGB);
        ImageIO.write(blank, "png", dir.resolve("c_noface.png").toFile());
        Files.copy(Path.of("src/test/resources/images/messi5.jpg"), dir.resolve("d_photo.jpg"));
        Files.copy(Path.of("src/test/resources/images/two_faces.png"), dir.resolve("d_two_faces.png"));
        Files.writeString(dir.resolve("e_skipped.txt"), "not an image, and not picked up by the directory walk");
        Path text = Files.writeString(tmp.resolve("notes.png"), "this is text, not a PNG");
        Path out = tmp.resolve("out.jsonl");

        int rc = run("extract", "--model", fixtures.resolve("deepfever-mini/model.safetensors").toString(), "--out", out.toString(),
                dir.toString(), text.toString());
        assertEquals(1, rc, "some inputs failed");
        List<String> lines = Files.readAllLines(out);
        List<String> images = new ArrayList<>();
        for (String l : lines) {
            Matcher m = Pattern.compile("\"image\":\"([^\"]*)\"").matcher(l);
            assertTrue(m.find(), l);
            images.add(m.group(1));
        }
        assertEquals(List.of(dir + "/a_good.png", dir + "/b_corrupt.png", dir + "/c_noface.png", dir + "/d_photo.jpg",
                dir + "/d_two_faces.png", dir + "/d_two_faces.png", text.toString()), images);
        assertTrue(lines.get(0).contains("\"face\":null") && lines.get(0).contains("\"features\":["), lines.get(0));
        assertTrue(lines.get(1).contains("\"error\":"), lines.get(1));
        assertEquals("{\"image\":\"" + dir + "/c_noface.png\",\"faces\":0}", lines.get(2));
        assertTrue(lines.get(3).matches(".*\"face\":\\{\"x\":\\d+,\"y\":\\d+,\"w\":\\d+,\"h\":\\d+}.*"), lines.get(3));
        for (int i = 4; i <= 5; i++) {
            assertTrue(lines.get(i).matches(".*\"face\":\\{\"x\":\\d+,\"y\":\\d+,\"w\":\\d+,\"h\":\\d+}.*\"features\":\\[.*"), lines.get(i));
        }
        assertFalse(lines.get(4).equals(lines.get(5)), "two different faces");
        assertTrue(lines.get(6).contains("\"error\":"), lines.get(6));
        assertFalse(Files.list(tmp).anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
    }

    @Test
    void csvAndNpyOutputs() throws IOException {
        Path csv = tmp.resolve("f.csv");
        int n = expectedFeatures.length;
        // a batch smaller than the face count, so the last batch is a partial one
        assertEquals(0, run("extract", "--model", fixtures.resolve("deepfever-mini/model.pth").toString(), "--format", "csv",
                "--out", csv.toString(), "--batch", String.valueOf(n - 1), fixtures.resolve("deepfever-mini/faces").toString()));
        List<String> rows = Files.readAllLines(csv);
        assertEquals(n + 1, rows.size());
        assertTrue(rows.get(0).startsWith("image,x,y,w,h,f0,f1,"), rows.get(0));
        String[] cells = rows.get(3).split(",");
        float[] f = new float[cells.length - 5];
        for (int i = 0; i < f.length; i++) f[i] = Float.parseFloat(cells[i + 5]);
        assertTrue(maxDiff(expectedFeatures[2], f) <= TOLERANCE);

        Path npy = tmp.resolve("out/features.npy");
        assertEquals(0, run("extract", "--model", fixtures.resolve("deepfever-mini/model.onnx").toString(), "--format", "npy",
                "--out", npy.toString(), fixtures.resolve("deepfever-mini/faces").toString()));
        float[][] got = readNpy2d(npy);
        assertEquals(n, got.length);
        for (int i = 0; i < n; i++) assertTrue(maxDiff(expectedFeatures[i], got[i]) <= TOLERANCE, "row " + i);
        List<String> index = Files.readAllLines(tmp.resolve("out/index.csv"));
        assertEquals("row,image,x,y,w,h", index.get(0));
        String last = index.get(n);
        assertTrue(last.startsWith((n - 1) + ",") && last.contains(String.format("%02d.png", n - 1)), last);
    }

    @Test
    void usageAndModelErrorsExitTwo() throws IOException {
        assertEquals(2, run("extract"));
        assertEquals(2, run("extract", "--format", "npy", "x.png"));
        Path bogus = Files.writeString(tmp.resolve("bogus.pth"), "PK\u0003\u0004 not really a zip");
        assertEquals(2, run("extract", "--model", bogus.toString(), fixtures.resolve("deepfever-mini/faces/00.png").toString()));
        assertEquals(2, run("info", "--model", tmp.resolve("missing.onnx").toString()));
    }
}
