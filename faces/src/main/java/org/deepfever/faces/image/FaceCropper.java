package org.deepfever.faces.image;

import org.deepfever.faces.detect.FaceBox;

/**
 * Turns a face detection into the network's input crop exactly as the reference pipeline
 * ({@code src-test/reference/faces.py}, Pillow) does:
 *
 * <pre>
 *   cy, cx = y + size / 2, x + size / 2
 *   half   = size * margin / 2                       # margin 1.4
 *   box    = round(cx - half), round(cy - half), round(cx + half), round(cy + half)
 *   crop   = img.crop(box)                           # outside the image: black
 *   face   = crop.resize((140, 140), Image.BILINEAR)
 * </pre>
 *
 * with Python's round-half-to-even, and {@link #resizeBilinear} reproducing Pillow's
 * {@code ImagingResample} (triangle filter widened by the downscale factor, 8-bit fixed point)
 * bit for bit.
 */
public final class FaceCropper {

    /** Side of the network's input crop. */
    public static final int INPUT_SIZE = 140;
    /** How much the detector's box is enlarged around its centre. */
    public static final double MARGIN = 1.4;

    private FaceCropper() {}

    /** True for an image that already is a face crop of the input size, to be used as it is. */
    public static boolean isInputSized(RgbImage img) {
        return img.width() == INPUT_SIZE && img.height() == INPUT_SIZE;
    }

    /** The 140 x 140 input crop for a detection. */
    public static RgbImage crop(RgbImage img, FaceBox box) {
        return squareCrop(img, box.x(), box.y(), box.size(), MARGIN, INPUT_SIZE);
    }

    /** The 140 x 140 input crop for a box at column {@code x}, row {@code y} of side {@code size}. */
    public static RgbImage crop(RgbImage img, int x, int y, int size) {
        return squareCrop(img, x, y, size, MARGIN, INPUT_SIZE);
    }

    /**
     * The crop box {left, top, right, bottom} (right and bottom exclusive) of {@code square_crop}:
     * the detection enlarged by {@code margin} around its centre, rounded half to even.
     */
    public static int[] squareBox(int x, int y, int size, double margin) {
        double cy = y + size / 2.0, cx = x + size / 2.0;
        double half = size * margin / 2;
        return new int[] {
            (int) Math.rint(cx - half), (int) Math.rint(cy - half), (int) Math.rint(cx + half), (int) Math.rint(cy + half)
        };
    }

    /** {@code square_crop(img, r=y, c=x, size, margin, out)}. */
    public static RgbImage squareCrop(RgbImage img, int x, int y, int size, double margin, int out) {
        if (size <= 0 || !(margin > 0) || out <= 0) {
            throw new IllegalArgumentException("bad crop: size " + size + ", margin " + margin + ", out " + out);
        }
        int[] b = squareBox(x, y, size, margin);
        return resizeBilinear(cropPadded(img, b[0], b[1], b[2], b[3]), out, out);
    }

    /**
     * Pillow's {@code Image.crop((left, top, right, bottom))}: a {@code (right - left) x (bottom - top)}
     * image; pixels outside the source are black.
     */
    public static RgbImage cropPadded(RgbImage img, int left, int top, int right, int bottom) {
        int w = right - left, h = bottom - top;
        if (w <= 0 || h <= 0) {
            throw new IllegalArgumentException("empty crop box " + left + "," + top + "," + right + "," + bottom);
        }
        RgbImage out = RgbImage.black(w, h);
        int x0 = Math.max(left, 0), x1 = Math.min(right, img.width());
        int y0 = Math.max(top, 0), y1 = Math.min(bottom, img.height());
        if (x0 >= x1 || y0 >= y1) {
            return out;
        }
        byte[] src = img.rgb(), dst = out.rgb();
        int len = (x1 - x0) * 3;
        for (int y = y0; y < y1; y++) {
            System.arraycopy(src, (y * img.width() + x0) * 3, dst, ((y - top) * w + (x0 - left)) * 3, len);
        }
        return out;
    }

    // --------------------------------------------------------------------------------------
    // Pillow's Resample.c, BILINEAR, 8 bits per channel

    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Per output pixel: first input index, tap count, and fixed-point weights. */
    private record Coeffs(int ksize, int[] bounds, int[] kk) {}

    private static double bilinearFilter(double x) {
        if (x < 0.0) x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    /** {@code precompute_coeffs} + {@code normalize_coeffs_8bpc} for the full-image box. */
    private static Coeffs coefficients(int inSize, int outSize) {
        double scale = (double) (float) inSize / outSize; // box coordinates are floats in Pillow
        double filterscale = Math.max(scale, 1.0);
        double support = 1.0 * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        int[] kk = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = 0.0 + (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = bilinearFilter((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                if (ww != 0.0) k[x] /= ww;
                double v = k[x] * (1 << PRECISION_BITS);
                kk[xx * ksize + x] = k[x] < 0 ? (int) (-0.5 + v) : (int) (0.5 + v);
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return new Coeffs(ksize, bounds, kk);
    }

    private static int clip8(int in) {
        int v = in >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /**
     * Pillow's {@code img.resize((w, h), Image.BILINEAR)} for an RGB image: a horizontal pass to an
     * 8-bit intermediate image, then a vertical pass, each with a triangle filter whose support is
     * widened by the scale factor when shrinking (antialiasing), weights in 22-bit fixed point.
     */
    public static RgbImage resizeBilinear(RgbImage img, int outW, int outH) {
        if (outW <= 0 || outH <= 0) {
            throw new IllegalArgumentException("bad output size " + outW + "x" + outH);
        }
        int inW = img.width(), inH = img.height();
        if (inW == outW && inH == outH) {
            return new RgbImage(inW, inH, img.rgb().clone());
        }
        Coeffs cv = coefficients(inH, outH);
        // rows the vertical pass will read
        int yFirst = cv.bounds[0];
        int yLast = cv.bounds[outH * 2 - 2] + cv.bounds[outH * 2 - 1];
        byte[] src = img.rgb();
        int tmpW = inW, tmpH = inH, tmpOffset = 0;
        byte[] tmp = src;
        if (outW != inW) {
            Coeffs ch = coefficients(inW, outW);
            tmpW = outW;
            tmpH = yLast - yFirst;
            tmpOffset = yFirst;
            tmp = new byte[tmpW * tmpH * 3];
            for (int yy = 0; yy < tmpH; yy++) {
                int row = (yy + yFirst) * inW * 3;
                for (int xx = 0; xx < outW; xx++) {
                    int xmin = ch.bounds[xx * 2], xmax = ch.bounds[xx * 2 + 1];
                    int kbase = xx * ch.ksize;
                    int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                    for (int x = 0; x < xmax; x++) {
                        int kv = ch.kk[kbase + x];
                        int p = row + (x + xmin) * 3;
                        s0 += (src[p] & 0xFF) * kv;
                        s1 += (src[p + 1] & 0xFF) * kv;
                        s2 += (src[p + 2] & 0xFF) * kv;
                    }
                    int o = (yy * tmpW + xx) * 3;
                    tmp[o] = (byte) clip8(s0);
                    tmp[o + 1] = (byte) clip8(s1);
                    tmp[o + 2] = (byte) clip8(s2);
                }
            }
        }
        if (outH == inH) {
            // only the horizontal pass was needed (tmp holds every row)
            return new RgbImage(tmpW, tmpH, tmp);
        }
        byte[] dst = new byte[outW * outH * 3];
        for (int yy = 0; yy < outH; yy++) {
            int ymin = cv.bounds[yy * 2] - tmpOffset, ymax = cv.bounds[yy * 2 + 1];
            int kbase = yy * cv.ksize;
            for (int xx = 0; xx < outW; xx++) {
                int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                for (int y = 0; y < ymax; y++) {
                    int kv = cv.kk[kbase + y];
                    int p = ((y + ymin) * tmpW + xx) * 3;
                    s0 += (tmp[p] & 0xFF) * kv;
                    s1 += (tmp[p + 1] & 0xFF) * kv;
                    s2 += (tmp[p + 2] & 0xFF) * kv;
                }
                int o = (yy * outW + xx) * 3;
                dst[o] = (byte) clip8(s0);
                dst[o + 1] = (byte) clip8(s1);
                dst[o + 2] = (byte) clip8(s2);
            }
        }
        return new RgbImage(outW, outH, dst);
    }
}
