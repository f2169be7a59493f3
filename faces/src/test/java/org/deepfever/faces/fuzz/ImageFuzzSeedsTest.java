package org.deepfever.faces.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.deepfever.faces.detect.FaceDetector;
import org.deepfever.faces.image.ImageDecoder;
import org.deepfever.faces.image.RgbImage;
import org.junit.jupiter.api.Test;

/**
 * The committed image fuzz seeds are exactly what {@link ImageFuzzSeeds} makes, every image seed
 * decodes, and the detector seed holds faces the detector finds. Run with
 * {@code -Dfever.fuzz.writeSeeds=true} to rewrite them after changing ImageFuzzSeeds.
 */
class ImageFuzzSeedsTest {
    private static final Path SOURCE = Path.of("src/test/resources/org/deepfever/faces/fuzz");

    @Test
    void committedSeedsAreTheGeneratedOnes() throws IOException {
        boolean write = Boolean.getBoolean("fever.fuzz.writeSeeds");
        for (Map.Entry<String, Map<String, byte[]>> target : ImageFuzzSeeds.all().entrySet()) {
            Path dir = SOURCE.resolve(target.getKey());
            if (write) {
                Files.createDirectories(dir);
                for (Map.Entry<String, byte[]> s : target.getValue().entrySet()) Files.write(dir.resolve(s.getKey()), s.getValue());
            }
            TreeSet<String> committed = new TreeSet<>();
            try (Stream<Path> files = Files.list(dir)) {
                files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("seed-")).forEach(committed::add);
            }
            assertEquals(new TreeSet<>(target.getValue().keySet()), committed,
                    dir + ": committed seeds differ from ImageFuzzSeeds (rerun with -Dfever.fuzz.writeSeeds=true)");
            for (Map.Entry<String, byte[]> s : target.getValue().entrySet()) {
                assertArrayEquals(s.getValue(), Files.readAllBytes(dir.resolve(s.getKey())),
                        dir.resolve(s.getKey()) + " differs from what ImageFuzzSeeds makes (rerun with -Dfever.fuzz.writeSeeds=true)");
            }
        }
    }

    @Test
    void imageSeedsDecode() throws IOException {
        for (Map.Entry<String, byte[]> s : ImageFuzzSeeds.images().entrySet()) {
            RgbImage img = ImageDecoder.decode(s.getValue(), s.getKey(), ImageDecoderFuzzTest.MAX_PIXELS);
            assertTrue(img.width() > 0 && img.height() > 0, s.getKey());
        }
    }

    @Test
    void detectorSeedHoldsAFaceTheDetectorFinds() throws IOException {
        byte[] seed = ImageFuzzSeeds.detector();
        int w = 16 + (seed[0] & 0x7f), h = 16 + (seed[1] & 0x7f);
        FaceDetector.Options o = new FaceDetector.Options(1.05 + (seed[2] & 0xff) / 500.0, seed[3] & 7, seed[4] & 0x3f, seed[5] & 0xff);
        byte[] gray = java.util.Arrays.copyOfRange(seed, FaceDetectorFuzzTest.HEADER, seed.length);
        assertEquals(w * h, gray.length);
        // the photo's two faces, shrunk to 143 px, keep enough windows for one group at least
        assertTrue(FaceDetector.frontalFace().withOptions(o).detectGray(gray, w, h).size() >= 1, "no face found in the detector seed");
    }
}
