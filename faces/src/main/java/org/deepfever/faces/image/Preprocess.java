package org.deepfever.faces.image;

/**
 * The network's input normalisation: RGB bytes to planar (CHW) floats {@code (pixel - 127.5) / 128},
 * computed in float exactly as the reference ({@code numpy float32}) does.
 */
public final class Preprocess {

    public static final float MEAN = 127.5f;
    public static final float SCALE = 128f;

    private Preprocess() {}

    /** {@code float[3 * h * w]}: the R plane, then G, then B, each row-major. */
    public static float[] toChw(RgbImage img) {
        float[] out = new float[3 * img.width() * img.height()];
        toChw(img, out, 0);
        return out;
    }

    /**
     * Writes the normalised planes of {@code img} into {@code dst} from {@code offset} (for
     * filling one face of a batch).
     */
    public static void toChw(RgbImage img, float[] dst, int offset) {
        int plane = img.width() * img.height();
        if (offset < 0 || (long) offset + 3L * plane > dst.length) {
            throw new IllegalArgumentException("destination too small: need " + 3L * plane + " floats at " + offset
                    + ", have " + dst.length);
        }
        byte[] rgb = img.rgb();
        for (int i = 0, j = 0; i < plane; i++, j += 3) {
            dst[offset + i] = ((rgb[j] & 0xFF) - MEAN) / SCALE;
            dst[offset + plane + i] = ((rgb[j + 1] & 0xFF) - MEAN) / SCALE;
            dst[offset + 2 * plane + i] = ((rgb[j + 2] & 0xFF) - MEAN) / SCALE;
        }
    }

    /**
     * The input tensor for one face image: a 140 x 140 image is used as it is (already a face
     * crop); anything else must be cropped first with {@link FaceCropper}.
     */
    public static float[] input(RgbImage face) {
        if (!FaceCropper.isInputSized(face)) {
            throw new IllegalArgumentException("network input must be " + FaceCropper.INPUT_SIZE + "x"
                    + FaceCropper.INPUT_SIZE + ", got " + face.width() + "x" + face.height());
        }
        return toChw(face);
    }
}
