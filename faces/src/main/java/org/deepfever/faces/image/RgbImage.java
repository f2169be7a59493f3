package org.deepfever.faces.image;

import java.util.Objects;

/**
 * An 8-bit RGB image: {@code width * height} pixels stored row-major, three interleaved bytes per
 * pixel (R, G, B), read as unsigned.
 *
 * <p>The pixel array is shared, not copied: callers that keep a reference must not change it.
 */
public record RgbImage(int width, int height, byte[] rgb) {

    public RgbImage {
        Objects.requireNonNull(rgb, "rgb");
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
        }
        if ((long) width * height * 3 != rgb.length) {
            throw new IllegalArgumentException("pixel array holds " + rgb.length + " bytes, a " + width + "x"
                    + height + " RGB image needs " + (long) width * height * 3);
        }
    }

    /** A black image. */
    public static RgbImage black(int width, int height) {
        if (width <= 0 || height <= 0 || (long) width * height * 3 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("bad image size " + width + "x" + height);
        }
        return new RgbImage(width, height, new byte[width * height * 3]);
    }

    /** Channel {@code c} (0 = R, 1 = G, 2 = B) of pixel (x, y), 0..255. */
    public int get(int x, int y, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xFF;
    }

    /** Pixel (x, y) as 0xRRGGBB. */
    public int rgbAt(int x, int y) {
        int i = (y * width + x) * 3;
        return (rgb[i] & 0xFF) << 16 | (rgb[i + 1] & 0xFF) << 8 | (rgb[i + 2] & 0xFF);
    }

    /**
     * Greyscale as OpenCV 4's {@code cvtColor(..., COLOR_RGB2GRAY)} computes it for 8-bit images:
     * {@code (9798 R + 19235 G + 3735 B + 16384) >> 15}, one byte per pixel, row-major.
     */
    public byte[] toGray() {
        int n = width * height;
        byte[] g = new byte[n];
        for (int i = 0, j = 0; i < n; i++, j += 3) {
            int r = rgb[j] & 0xFF, gr = rgb[j + 1] & 0xFF, b = rgb[j + 2] & 0xFF;
            g[i] = (byte) ((r * 9798 + gr * 19235 + b * 3735 + (1 << 14)) >> 15);
        }
        return g;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage other && other.width == width && other.height == height
                && java.util.Arrays.equals(other.rgb, rgb);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + java.util.Arrays.hashCode(rgb);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
