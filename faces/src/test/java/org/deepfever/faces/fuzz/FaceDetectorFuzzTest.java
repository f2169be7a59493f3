package org.deepfever.faces.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;
import org.deepfever.faces.detect.FaceBox;
import org.deepfever.faces.detect.FaceDetector;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of the LBP face detector over arbitrary greyscale images and settings:
 * detection never throws, never hangs, and every box lies inside the image. The input's first six
 * bytes choose width and height (16..143), scale step (1.05..1.56), neighbours (0..7), minimum and
 * maximum face size; the rest are the pixels, repeated to fill the image. Committed inputs:
 * {@code FaceDetectorFuzzTestInputs/detect} (one is a photo of two faces in which the detector
 * finds a face, so the fuzzer starts with every cascade stage and the grouping exercised).
 */
class FaceDetectorFuzzTest {
    /** Bytes of settings before the pixels. */
    static final int HEADER = 6;

    @FuzzTest(maxDuration = "45s")
    @Timeout(10)
    void detect(byte[] input) {
        if (input.length <= HEADER) return;
        int w = 16 + (input[0] & 0x7f), h = 16 + (input[1] & 0x7f);
        FaceDetector.Options o = new FaceDetector.Options(1.05 + (input[2] & 0xff) / 500.0, input[3] & 7, input[4] & 0x3f, input[5] & 0xff);
        byte[] gray = new byte[w * h];
        for (int i = 0; i < gray.length; i++) gray[i] = input[HEADER + i % (input.length - HEADER)];
        List<FaceBox> faces = FaceDetector.frontalFace().withOptions(o).detectGray(gray, w, h);
        checkInside(faces, w, h);
    }

    /** Every box lies inside the w x h image. */
    static void checkInside(List<FaceBox> faces, int w, int h) {
        for (FaceBox b : faces) {
            if (b.x() < 0 || b.y() < 0 || (long) b.x() + b.size() > w || (long) b.y() + b.size() > h) {
                throw new AssertionError("box " + b + " lies outside the " + w + "x" + h + " image");
            }
        }
    }
}
