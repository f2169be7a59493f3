package org.deepfever.model;

/**
 * face-api's input preparation for FaceExpressionNet, as its runtime does it for a tensor input
 * ({@code NetInput.toBatchTensor(112, true)}, then {@code normalize(x, meanRgb).div(255)}), value
 * for value as TF.js's cpu backend computes it:
 * <ol>
 *   <li>pad to a square with zeros, centred: the shorter side gets {@code round(d / 2)} after and
 *   the rest ({@code d - round(d / 2)}) before, d the difference of the sides ({@code padToSquare});</li>
 *   <li>unless already 112x112, resize to 112x112 with {@code tf.image.resizeBilinear(x, [112, 112],
 *   false, false)}: the legacy mapping {@code src = dst * in / out} (no half-pixel offset), the
 *   lower neighbour {@code floor(src)}, the upper {@code min(ceil(src), in - 1)}, interpolated in
 *   double and rounded to float;</li>
 *   <li>subtract the mean RGB (122.782, 117.001, 104.298) and divide by 255, in float.</li>
 * </ol>
 * The result is planar (CHW) for the engine's [N, 3, 112, 112] input.
 */
public final class FaceExpressionPreprocess {
    /** face-api's mean RGB, as float32 (TF.js fills the mean tensor as float32). */
    static final float[] MEAN_RGB = {122.782f, 117.001f, 104.298f};
    private static final int SIZE = FaceExpressionGraphBuilder.INPUT_SIZE;

    private FaceExpressionPreprocess() {}

    /**
     * Prepares a face crop given as packed RGB ints ({@code 0xRRGGBB}, as {@code
     * BufferedImage.getRGB} returns them; the top byte is ignored), row-major.
     *
     * @return 3 * 112 * 112 floats, planar R, G, B
     * @throws IllegalArgumentException when the sizes are not positive or do not match the array
     */
    public static float[] fromRgbInts(int[] rgb, int width, int height) {
        checkSize(rgb.length, 1, width, height);
        float[] hwc = new float[rgb.length * 3];
        for (int i = 0; i < rgb.length; i++) {
            int p = rgb[i];
            hwc[3 * i] = (p >>> 16) & 0xff;
            hwc[3 * i + 1] = (p >>> 8) & 0xff;
            hwc[3 * i + 2] = p & 0xff;
        }
        return fromHwc(hwc, width, height);
    }

    /**
     * Prepares a face crop given as interleaved RGB bytes (R, G, B per pixel, unsigned), row-major.
     *
     * @return 3 * 112 * 112 floats, planar R, G, B
     * @throws IllegalArgumentException when the sizes are not positive or do not match the array
     */
    public static float[] fromRgbBytes(byte[] rgb, int width, int height) {
        checkSize(rgb.length, 3, width, height);
        float[] hwc = new float[rgb.length];
        for (int i = 0; i < rgb.length; i++) hwc[i] = rgb[i] & 0xff;
        return fromHwc(hwc, width, height);
    }

    /**
     * Writes the prepared crop into {@code dst} at {@code offset} (e.g. the slot of one face in a
     * batch input of [N, 3, 112, 112] floats).
     *
     * @throws IllegalArgumentException when the sizes do not match or {@code dst} is too short
     */
    public static void fromRgbInts(int[] rgb, int width, int height, float[] dst, int offset) {
        float[] one = fromRgbInts(rgb, width, height);
        if (offset < 0 || offset > dst.length - one.length) throw new IllegalArgumentException("destination holds " + dst.length + " floats, no room for " + one.length + " at offset " + offset);
        System.arraycopy(one, 0, dst, offset, one.length);
    }

    private static void checkSize(int length, int perPixel, int width, int height) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        if ((long) width * height * perPixel != length) {
            throw new IllegalArgumentException("a " + width + "x" + height + " image needs " + (long) width * height * perPixel + " values, got " + length);
        }
    }

    /** Steps 1-3 on interleaved RGB values (HWC). */
    static float[] fromHwc(float[] hwc, int width, int height) {
        int side = Math.max(width, height);
        float[] square = padToSquare(hwc, width, height, side);
        float[] resized = side == SIZE ? square : resizeBilinearLegacy(square, side, side, SIZE, SIZE);
        float[] out = new float[3 * SIZE * SIZE];
        int plane = SIZE * SIZE;
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) out[c * plane + i] = (resized[3 * i + c] - MEAN_RGB[c]) / 255f;
        }
        return out;
    }

    /**
     * face-api's {@code padToSquare(x, true)}: zeros, round(d / 2) after, the rest before.
     *
     * @param hwc    interleaved RGB values, {@code height} rows of {@code width} pixels
     * @param side   {@code max(width, height)}
     * @return {@code side x side} interleaved RGB values ({@code hwc} itself when already square)
     */
    public static float[] padToSquare(float[] hwc, int width, int height, int side) {
        if (width == height) return hwc;
        int diff = Math.abs(width - height);
        int after = (int) Math.round(diff * 0.5); // JS Math.round: halves go up, as Java's
        int before = diff - after;
        int x0 = width < height ? before : 0, y0 = height < width ? before : 0;
        float[] out = new float[side * side * 3];
        for (int y = 0; y < height; y++) {
            System.arraycopy(hwc, y * width * 3, out, ((y + y0) * side + x0) * 3, width * 3);
        }
        return out;
    }

    /**
     * TF.js cpu {@code resizeBilinear} with alignCorners = false, halfPixelCenters = false (HWC, 3 channels).
     *
     * @return {@code outW x outH} interleaved RGB values
     */
    public static float[] resizeBilinearLegacy(float[] src, int inW, int inH, int outW, int outH) {
        float[] out = new float[outW * outH * 3];
        double rowRatio = (double) inH / outH, colRatio = (double) inW / outW;
        int o = 0;
        for (int r = 0; r < outH; r++) {
            double fr = rowRatio * r;
            int r0 = Math.max(0, (int) Math.floor(fr)), r1 = Math.min(inH - 1, (int) Math.ceil(fr));
            double rowFrac = fr - r0;
            for (int c = 0; c < outW; c++) {
                double fc = colRatio * c;
                int c0 = Math.max(0, (int) Math.floor(fc)), c1 = Math.min(inW - 1, (int) Math.ceil(fc));
                double colFrac = fc - c0;
                int tl = (r0 * inW + c0) * 3, tr = (r0 * inW + c1) * 3, bl = (r1 * inW + c0) * 3, br = (r1 * inW + c1) * 3;
                for (int d = 0; d < 3; d++) {
                    double top = src[tl + d] + (src[tr + d] - (double) src[tl + d]) * colFrac;
                    double bottom = src[bl + d] + (src[br + d] - (double) src[bl + d]) * colFrac;
                    out[o++] = (float) (top + (bottom - top) * rowFrac);
                }
            }
        }
        return out;
    }
}
