package org.deepfever.faces;

import org.deepfever.api.InputSpec;
import org.deepfever.faces.detect.FaceBox;
import org.deepfever.faces.image.FaceCropper;
import org.deepfever.faces.image.RgbImage;
import org.deepfever.model.FaceExpressionPreprocess;

/**
 * Turns a face in a decoded image into one model's input, as its {@link InputSpec} says: the crop
 * ({@link InputSpec.Fit}), the resampling ({@link InputSpec.Resize}) and the normalisation, into
 * planar floats in the model's colour order.
 */
public final class ModelInput {
    private ModelInput() {}

    /**
     * The prepared input for one face.
     *
     * @param image the decoded photo
     * @param box   the detected face, or null to take the whole image as the face
     * @param spec  the model's input description
     * @return {@code spec.values()} floats, channel planes in {@code spec.colors()} order
     * @throws IllegalArgumentException if the spec asks for a fit and resampling pair not implemented
     *         ({@code MARGIN_SQUARE} goes with {@code PIL_BILINEAR}, {@code PAD_TO_SQUARE} with
     *         {@code TF_LEGACY_BILINEAR})
     */
    public static float[] prepare(RgbImage image, FaceBox box, InputSpec spec) {
        return switch (spec.fit()) {
            case MARGIN_SQUARE -> {
                requireResize(spec, InputSpec.Resize.PIL_BILINEAR);
                RgbImage crop;
                if (box != null) crop = FaceCropper.squareCrop(image, box.x(), box.y(), box.size(), spec.margin(), spec.size());
                else if (image.width() == spec.size() && image.height() == spec.size()) crop = image;
                else crop = FaceCropper.resizeBilinear(image, spec.size(), spec.size());
                yield normalise(bytesToFloats(crop.rgb()), spec);
            }
            case PAD_TO_SQUARE -> {
                requireResize(spec, InputSpec.Resize.TF_LEGACY_BILINEAR);
                RgbImage region = box == null ? image
                        : FaceCropper.cropPadded(image, box.x(), box.y(), box.x() + box.size(), box.y() + box.size());
                int side = Math.max(region.width(), region.height());
                float[] square = FaceExpressionPreprocess.padToSquare(bytesToFloats(region.rgb()), region.width(), region.height(), side);
                float[] resized = side == spec.size() ? square : FaceExpressionPreprocess.resizeBilinearLegacy(square, side, side, spec.size(), spec.size());
                yield normalise(resized, spec);
            }
        };
    }

    private static void requireResize(InputSpec spec, InputSpec.Resize expected) {
        if (spec.resize() != expected) {
            throw new IllegalArgumentException("fit " + spec.fit() + " is implemented with " + expected + " resampling, not " + spec.resize());
        }
    }

    private static float[] bytesToFloats(byte[] rgb) {
        float[] f = new float[rgb.length];
        for (int i = 0; i < rgb.length; i++) f[i] = rgb[i] & 0xFF;
        return f;
    }

    /**
     * Interleaved RGB values (HWC, {@code size x size}) to planes in the spec's colour order,
     * {@code (value - mean[c]) / divisor[c]} in float (as numpy float32 and TF.js compute it).
     */
    static float[] normalise(float[] hwc, InputSpec spec) {
        int plane = spec.size() * spec.size();
        if (hwc.length != 3 * plane) throw new IllegalArgumentException("expected " + 3 * plane + " values, got " + hwc.length);
        float[] mean = spec.mean(), div = spec.divisor();
        boolean bgr = spec.colors() == InputSpec.ColorOrder.BGR;
        float[] out = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            int src = bgr ? 2 - c : c;
            float m = mean[c], d = div[c];
            for (int i = 0; i < plane; i++) out[c * plane + i] = (hwc[3 * i + src] - m) / d;
        }
        return out;
    }
}
