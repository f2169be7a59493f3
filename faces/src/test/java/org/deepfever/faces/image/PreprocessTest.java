package org.deepfever.faces.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PreprocessTest {

    private static final int FACE = 3 * 140 * 140;

    /** faces/NN.png -> input.npy face NN, bit for bit, for every face of both fixture sets. */
    @Test
    void facePngsNormaliseExactlyToInputNpy() throws IOException {
        for (String set : new String[] {"deepfever-mini", "deepfever-mini-fullbackbone"}) {
            Path dir = TestData.fixture(set);
            float[] npy = TestData.readNpyFloat32(dir.resolve("input.npy"));
            int n = npy.length / FACE;
            assertEquals(0, npy.length % FACE, set + ": input.npy holds whole faces");
            for (int f = 0; f < n; f++) {
                Path png = dir.resolve(String.format("faces/%02d.png", f));
                if (!Files.exists(png)) continue;
                float[] got = Preprocess.input(ImageDecoder.decode(png));
                assertEquals(FACE, got.length);
                for (int i = 0; i < FACE; i++) {
                    if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(npy[f * FACE + i])) {
                        throw new AssertionError(set + " face " + f + " float " + i + ": " + got[i] + " != " + npy[f * FACE + i]);
                    }
                }
            }
        }
    }

    @Test
    void layoutIsPlanarRgbAndValuesAreCentred() {
        byte[] rgb = {0, (byte) 255, (byte) 128, 10, 20, 30};
        float[] t = Preprocess.toChw(new RgbImage(2, 1, rgb));
        assertEquals(-127.5f / 128f, t[0]); // R of pixel 0
        assertEquals((10 - 127.5f) / 128f, t[1]); // R of pixel 1
        assertEquals(127.5f / 128f, t[2]); // G of pixel 0
        assertEquals((20 - 127.5f) / 128f, t[3]);
        assertEquals(0.5f / 128f, t[4]); // B of pixel 0
        assertEquals((30 - 127.5f) / 128f, t[5]);
        float[] batch = new float[8];
        Preprocess.toChw(new RgbImage(2, 1, rgb), batch, 2);
        assertEquals(t[5], batch[7]);
        assertThrows(IllegalArgumentException.class, () -> Preprocess.toChw(new RgbImage(2, 1, rgb), batch, 3));
        assertThrows(IllegalArgumentException.class, () -> Preprocess.input(new RgbImage(2, 1, rgb)));
    }
}
