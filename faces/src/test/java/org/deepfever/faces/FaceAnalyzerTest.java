package org.deepfever.faces;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.deepfever.api.DeepFever;
import org.deepfever.api.ExpressionModel;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceModels;
import org.deepfever.api.FaceResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library alone, as an embedder uses it: either model, from an image file to face results. */
class FaceAnalyzerTest {
    static final Path REPO = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
    static final Path PHOTO = REPO.resolve("samples/messi5.jpg");

    @TempDir Path tmp;

    static Path fixtures() {
        String p = System.getProperty("fever.fixtures");
        Path dir = p != null ? Path.of(p) : REPO.resolve("src-test/golden");
        assumeTrue(Files.isDirectory(dir), "golden sets not found at " + dir);
        return dir;
    }

    @Test
    void builtInExpressionModelOnAPhoto() throws IOException {
        try (FaceModel model = FaceModels.load(ExpressionModel.NAME, DeepFever.Options.defaults().withThreads(2))) {
            assertEquals(112, model.input().size());
            assertNull(model.note(), "a trained model carries no caveat");
            List<FaceAnalyzer.Face> faces = new FaceAnalyzer(model).analyze(PHOTO);
            assertEquals(1, faces.size(), "one face in messi5.jpg");
            FaceAnalyzer.Face f = faces.get(0);
            assertNotNull(f.box());
            FaceResult r = f.result();
            assertEquals(256, r.features().length);
            assertNull(r.embedding(), "FaceExpressionNet has no embedding");
            assertEquals(model.output().classes(), List.copyOf(r.scores().keySet()));
            double sum = r.scores().values().stream().mapToDouble(Float::doubleValue).sum();
            assertEquals(1.0, sum, 1e-5);

            // the same photo as a BufferedImage gives the same result
            BufferedImage img = ImageIO.read(PHOTO.toFile());
            FaceResult again = new FaceAnalyzer(model).analyze(img).get(0).result();
            assertArrayEquals(r.probabilities(), again.probabilities());
        }
    }

    @Test
    void deepFeverWeightsOnAPhotoAndOnACrop() throws IOException {
        Path mini = fixtures().resolve("deepfever-mini");
        try (FaceModel model = FaceModels.load(mini.resolve("model.pth").toString(), DeepFever.Options.defaults().withThreads(2))) {
            assertEquals(DeepFever.INPUT, model.input());
            List<FaceAnalyzer.Face> photo = new FaceAnalyzer(model).analyze(PHOTO);
            assertEquals(1, photo.size());
            assertEquals(model.output().featureLength(), photo.get(0).result().features().length);
            assertEquals(model.output().embeddingLength(), photo.get(0).result().embedding().length);

            // a 140x140 crop is used as it is (no detection) and matches PyTorch's golden features
            Path face0;
            try (var s = Files.list(mini.resolve("faces"))) {
                face0 = s.sorted().findFirst().orElseThrow();
            }
            List<FaceAnalyzer.Face> crop = new FaceAnalyzer(model).analyze(face0);
            assertEquals(1, crop.size());
            assertNull(crop.get(0).box());
            float[] expected = org.deepfever.io.Npy.read(mini.resolve("features.npy")).toFloatArray();
            float[] got = crop.get(0).result().features();
            for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-4, "feature " + i);
        }
    }

    @Test
    void badImageNamesTheFile() throws IOException {
        Path bad = Files.writeString(tmp.resolve("notes.png"), "text, not a PNG");
        try (FaceModel model = FaceModels.load(ExpressionModel.NAME)) {
            IOException e = assertThrows(IOException.class, () -> new FaceAnalyzer(model).analyze(bad));
            assertTrue(e.getMessage().contains("notes.png"), e.getMessage());
        }
    }

    @Test
    void closedModelFailsClearly() {
        FaceModel model = FaceModels.load(ExpressionModel.NAME);
        model.close();
        assertThrows(IllegalStateException.class, () -> new FaceAnalyzer(model).analyze(new BufferedImage(112, 112, BufferedImage.TYPE_INT_RGB)));
    }
}
