package org.deepfever.faces.detect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Random;
import org.deepfever.faces.image.RgbImage;
import org.deepfever.faces.image.TestData;
import org.junit.jupiter.api.Test;

/** The stump layout (the detector's fast path) against the cascade's plain tree walk, its reference twin. */
class StumpCascadeTest {

    /** Every window position of an image, at the given row length: the same result, failing stage included. */
    private static int compareEveryWindow(byte[] gray, int w, int h) {
        LbpCascade c = LbpCascade.frontalFace();
        int[] sum = FaceDetector.integral(gray, w, h);
        int stride = w + 1;
        StumpCascade s = c.stumps(stride);
        int[] ofs = c.offsets(stride);
        int passed = 0;
        for (int y = 0; y + c.windowHeight() <= h; y++) {
            for (int x = 0; x + c.windowWidth() <= w; x++) {
                int want = c.evaluate(sum, y * stride + x, ofs);
                assertEquals(want, s.evaluate(sum, y * stride + x), "window at " + x + "," + y);
                if (want > 0) passed++;
            }
        }
        return passed;
    }

    @Test
    void bundledCascadeIsStumps() {
        assertTrue(LbpCascade.frontalFace().allStumps());
    }

    @Test
    void everyWindowOfPhotosAndNoiseMatchesTheTreeWalk() throws IOException {
        RgbImage astronaut = TestData.resourceImage("/images/astronaut.png");
        int passed = compareEveryWindow(astronaut.toGray(), astronaut.width(), astronaut.height());
        assertTrue(passed > 0, "some windows of a face photo pass every stage");
        Random r = new Random(11);
        for (int[] wh : new int[][] {{24, 24}, {37, 29}, {101, 64}}) {
            byte[] g = new byte[wh[0] * wh[1]];
            r.nextBytes(g);
            compareEveryWindow(g, wh[0], wh[1]);
        }
        byte[] ramp = new byte[80 * 50]; // smooth: many equal block sums (the >= ties)
        for (int i = 0; i < ramp.length; i++) ramp[i] = (byte) ((i % 80) / 8);
        compareEveryWindow(ramp, 80, 50);
    }

    /** The whole search, parallel stump path against the one-thread tree walk: the same windows in the same order. */
    @Test
    void candidatesMatchTheReferenceSearch() throws IOException {
        RgbImage astronaut = TestData.resourceImage("/images/astronaut.png");
        RgbImage two = TestData.resourceImage("/images/two_faces.png");
        Random r = new Random(3);
        byte[] noise = new byte[400 * 300];
        r.nextBytes(noise);
        for (double sf : new double[] {1.1, 1.2, 1.05}) {
            FaceDetector d = FaceDetector.frontalFace().withOptions(new FaceDetector.Options(sf, 0, 0, 0));
            for (RgbImage img : List.of(astronaut, two)) {
                assertSame(d.candidatesReference(img.toGray(), img.width(), img.height()),
                        d.candidates(img.toGray(), img.width(), img.height()));
            }
            assertSame(d.candidatesReference(noise, 400, 300), d.candidates(noise, 400, 300));
        }
    }

    private static void assertSame(List<int[]> want, List<int[]> got) {
        assertEquals(want.size(), got.size(), "window count");
        for (int i = 0; i < want.size(); i++) assertArrayEquals(want.get(i), got.get(i), "window " + i);
    }
}
