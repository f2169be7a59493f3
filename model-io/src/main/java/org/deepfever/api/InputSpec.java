package org.deepfever.api;

import java.util.Arrays;

/**
 * What a {@link FaceModel} takes: a square {@code size x size} crop, channel planes in
 * {@code colors} order, each value {@code (pixel - mean[c]) / divisor[c]} for 8-bit pixels, and
 * how a face found in a photo is turned into that crop.
 *
 * @param size    crop width and height in pixels
 * @param colors  channel order of the planes
 * @param fit     how a detected face box becomes the crop
 * @param margin  for {@link Fit#MARGIN_SQUARE}: the box side is multiplied by this (1 for none)
 * @param resize  the resampling used to reach {@code size}
 * @param mean    per-channel value subtracted from each 0-255 pixel, in {@code colors} order
 * @param divisor per-channel divisor applied after the subtraction
 */
public record InputSpec(int size, ColorOrder colors, Fit fit, double margin, Resize resize, float[] mean, float[] divisor) {
    /** Channel order of the input planes. */
    public enum ColorOrder { RGB, BGR }

    /** How a face box (or a whole image taken as the face) becomes the square crop. */
    public enum Fit {
        /** Grow the box by the margin to a square around its centre; outside the image is black. */
        MARGIN_SQUARE,
        /** Take the box (or whole image) as it is and pad it with black to a centred square. */
        PAD_TO_SQUARE
    }

    /** The resampling the model was trained with. */
    public enum Resize {
        /** Pillow's antialiased bilinear filter ({@code Image.resize(..., BILINEAR)}). */
        PIL_BILINEAR,
        /** TensorFlow's legacy bilinear ({@code align_corners=false, half_pixel_centers=false}). */
        TF_LEGACY_BILINEAR
    }

    /**
     * Checks the values and copies the arrays.
     *
     * @throws IllegalArgumentException if a size, margin or per-channel array is out of range
     */
    public InputSpec {
        if (size < 1) throw new IllegalArgumentException("size must be >= 1, got " + size);
        if (!(margin >= 1)) throw new IllegalArgumentException("margin must be >= 1, got " + margin);
        if (mean.length != 3 || divisor.length != 3) throw new IllegalArgumentException("mean and divisor need 3 values each");
        for (float d : divisor) if (!(d != 0 && Float.isFinite(d))) throw new IllegalArgumentException("divisor " + Arrays.toString(divisor));
        mean = mean.clone();
        divisor = divisor.clone();
    }

    /** The per-channel means (a copy). */
    @Override public float[] mean() { return mean.clone(); }

    /** The per-channel divisors (a copy). */
    @Override public float[] divisor() { return divisor.clone(); }

    /** Values per prepared face: {@code 3 * size * size}. */
    public int values() { return 3 * size * size; }

    @Override
    public String toString() {
        return size + "x" + size + " " + colors + ", " + fit + (fit == Fit.MARGIN_SQUARE ? " x" + margin : "") + ", " + resize
                + ", (pixel - " + Arrays.toString(mean) + ") / " + Arrays.toString(divisor);
    }
}
