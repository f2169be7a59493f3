package org.deepfever.faces.detect;

import java.util.ArrayList;
import java.util.List;
import org.deepfever.faces.image.FaceCropper;
import org.deepfever.faces.image.RgbImage;

/**
 * From a decoded photo to the network's 140 x 140 face crops: an image that already is 140 x 140
 * is taken as one face as it is (no detection, {@code box == null}); otherwise every face the
 * detector finds is cropped with {@link FaceCropper#crop(RgbImage, FaceBox)}, left to right.
 */
public final class FaceExtractor {

    /** One face: where it was found ({@code null} for an image used as it is) and its input crop. */
    public record Face(FaceBox box, RgbImage crop) {}

    private final FaceDetector detector;

    public FaceExtractor(FaceDetector detector) {
        this.detector = java.util.Objects.requireNonNull(detector);
    }

    /** With the bundled frontal-face cascade and default options. */
    public static FaceExtractor frontalFace() {
        return new FaceExtractor(FaceDetector.frontalFace());
    }

    public List<Face> faces(RgbImage image) {
        List<Face> out = new ArrayList<>();
        if (FaceCropper.isInputSized(image)) {
            out.add(new Face(null, image));
            return out;
        }
        for (FaceBox b : detector.detect(image)) {
            out.add(new Face(b, FaceCropper.crop(image, b)));
        }
        return out;
    }
}
