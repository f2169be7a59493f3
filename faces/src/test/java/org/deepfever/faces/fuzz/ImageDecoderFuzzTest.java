package org.deepfever.faces.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.util.List;
import org.deepfever.faces.detect.FaceBox;
import org.deepfever.faces.detect.FaceDetector;
import org.deepfever.faces.image.ImageDecoder;
import org.deepfever.faces.image.RgbImage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of image decoding (ImageIO's JPEG, PNG, BMP, GIF and WBMP readers behind
 * {@link ImageDecoder}, with its CMYK/YCCK path and truncation checks), then face detection on what
 * decodes. Any input decodes to a consistent image or fails with an IOException whose message
 * starts with the file name; nothing else escapes, no allocation beyond what the pixel limit allows,
 * no hang. Committed inputs: {@code ImageDecoderFuzzTestInputs/decode}.
 */
class ImageDecoderFuzzTest {
    /** Pixel limit while fuzzing (the CLI's is 100 M): keeps each input fast; the code path is the same. */
    static final long MAX_PIXELS = 1L << 20;
    /** Bytes any input may allocate, plus per allowed pixel (rasters of up to 16-bit RGBA, the RGB copy, greyscale). */
    static final long FIXED_ALLOWANCE = 64L << 20, PER_PIXEL = 40;
    /** Decoded images up to this size also go through face detection (larger ones would slow fuzzing down). */
    static final long DETECT_PIXELS = 256 * 256;
    private static final String NAME = "fuzz-input.img";
    private static final FaceDetector DETECTOR = FaceDetector.frontalFace().withOptions(FaceDetector.Options.DEFAULT.withMinSize(0));

    /**
     * Decodes every seed (whole and cut in half) once before any input is measured, so that class
     * loading, Jazzer's instrumentation and ImageIO's reader registry count against no input.
     */
    @BeforeAll
    static void warmUp() throws IOException {
        ImageDecoderFuzzTest t = new ImageDecoderFuzzTest();
        for (byte[] seed : ImageFuzzSeeds.images().values()) {
            for (int cut : new int[] {seed.length, seed.length / 2}) {
                try {
                    t.decode(java.util.Arrays.copyOf(seed, cut));
                } catch (AssertionError e) {
                    // the real run reports it
                }
            }
        }
    }

    @FuzzTest(maxDuration = "45s")
    @Timeout(10)
    void decode(byte[] input) {
        long before = Allocation.current();
        RgbImage img;
        try {
            img = ImageDecoder.decode(input, NAME, MAX_PIXELS);
        } catch (IOException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith(NAME + ": ")) {
                throw new AssertionError("error does not name the file: " + e.getMessage(), e);
            }
            Allocation.check(before, FIXED_ALLOWANCE + PER_PIXEL * MAX_PIXELS, input.length);
            return;
        }
        if (img.width() <= 0 || img.height() <= 0 || (long) img.width() * img.height() > MAX_PIXELS
                || img.rgb().length != img.width() * img.height() * 3) {
            throw new AssertionError("inconsistent image " + img);
        }
        if ((long) img.width() * img.height() <= DETECT_PIXELS) {
            List<FaceBox> faces = DETECTOR.detect(img);
            FaceDetectorFuzzTest.checkInside(faces, img.width(), img.height());
        }
        Allocation.check(before, FIXED_ALLOWANCE + PER_PIXEL * MAX_PIXELS, input.length);
    }
}
