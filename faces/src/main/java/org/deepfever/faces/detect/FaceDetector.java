package org.deepfever.faces.detect;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.deepfever.faces.image.RgbImage;

/**
 * Multi-scale sliding-window face detection with an {@link LbpCascade}, following OpenCV's
 * {@code CascadeClassifier::detectMultiScale} (CPU path, no flags) step by step:
 *
 * <ol>
 *   <li>greyscale with OpenCV's fixed-point {@code RGB2GRAY};
 *   <li>scale factors 1, f, f^2, ... while the scaled window ({@code round(24 * factor)}) fits in
 *       the image and the maximum size; those below the minimum size are skipped;
 *   <li>for each, the image is shrunk to {@code round(size / factor)} with OpenCV's bilinear
 *       {@code INTER_LINEAR_EXACT} (bit-exact fixed point), its integral image is taken, and every window
 *       position is tried with step 2 px (1 px where factor &gt;= 2), skipping one extra step after
 *       a window rejected by the first stage;
 *   <li>accepted windows, mapped back to image coordinates, are merged by {@link #groupRectangles}.
 * </ol>
 *
 * <p>A cascade of stumps (the bundled one) runs on {@link StumpCascade}, its stumps laid out per
 * level in the order they are read, and where the Vector API is there ({@link VectorSupport}) on
 * {@link VectorStumps}, a row of adjacent windows per vector; a level searched with step 2 then
 * keeps its integral image's even columns before its odd ones ({@link #integralSplit}), so that the
 * windows searched lie side by side. The levels of a large image are searched in parallel on the
 * fork-join pool the call runs in (the common one, from an ordinary thread) and their windows joined
 * in level order, so the result is the one-thread tree walk's ({@code candidatesReference}), window
 * for window.
 *
 * <p>Checked against OpenCV 4.6's own {@code detectMultiScale} (Debian's python3-opencv): the same
 * raw windows and the same grouped boxes, rectangle for rectangle, on the test photos at scales 1.1
 * and 1.2 (see FaceDetectorTest).
 *
 * <p>Immutable and thread-safe.
 */
public final class FaceDetector {

    /**
     * Detection settings: the pyramid's scale step, how many raw windows a group needs <em>more
     * than</em> to be kept ({@code minNeighbors}, OpenCV's {@code groupThreshold}), and the smallest
     * and largest face side in pixels (0: no maximum).
     *
     * <p>{@link #DEFAULT} is scale 1.1 (OpenCV's default), 5 neighbours, 30 px minimum. OpenCV's
     * default of 3 neighbours lets this cascade keep false positives with 4 or 5 windows (an
     * advertising board in messi5.jpg, a coat in scikit-image's "camera", ...); true faces in the
     * test photos gather 9 to 18 windows at scale 1.1.
     */
    public record Options(double scaleFactor, int minNeighbors, int minSize, int maxSize) {
        public static final Options DEFAULT = new Options(1.1, 5, 30, 0);

        public Options {
            if (!(scaleFactor >= 1.01) || scaleFactor > 10) {
                throw new IllegalArgumentException("scale factor must be in [1.01, 10]: " + scaleFactor);
            }
            if (minNeighbors < 0 || minSize < 0 || maxSize < 0) {
                throw new IllegalArgumentException("negative detector option");
            }
        }

        public Options withScaleFactor(double f) {
            return new Options(f, minNeighbors, minSize, maxSize);
        }

        public Options withMinNeighbors(int n) {
            return new Options(scaleFactor, n, minSize, maxSize);
        }

        public Options withMinSize(int s) {
            return new Options(scaleFactor, minNeighbors, s, maxSize);
        }

        /** 0: no maximum beyond the image. */
        public Options withMaxSize(int s) {
            return new Options(scaleFactor, minNeighbors, minSize, s);
        }
    }

    /** OpenCV's GROUP_EPS. */
    public static final double GROUP_EPS = 0.2;

    private final LbpCascade cascade;
    private final Options options;
    /** Whether the cascade runs on the {@link StumpCascade} layout. */
    private final boolean stumpsOnly;

    public FaceDetector(LbpCascade cascade, Options options) {
        this.cascade = java.util.Objects.requireNonNull(cascade);
        this.options = java.util.Objects.requireNonNull(options);
        this.stumpsOnly = cascade.allStumps();
    }

    /** The bundled frontal-face cascade with {@link Options#DEFAULT}. */
    public static FaceDetector frontalFace() {
        return new FaceDetector(LbpCascade.frontalFace(), Options.DEFAULT);
    }

    public FaceDetector withOptions(Options o) {
        return new FaceDetector(cascade, o);
    }

    public Options options() {
        return options;
    }

    /** Faces in {@code image}, sorted by x then y (left to right). */
    public List<FaceBox> detect(RgbImage image) {
        return detectGray(image.toGray(), image.width(), image.height());
    }

    /**
     * Faces in an 8-bit greyscale image ({@code width * height} bytes, row-major), sorted by x then
     * y; every box lies inside the image.
     */
    public List<FaceBox> detectGray(byte[] gray, int width, int height) {
        List<int[]> raw = candidates(gray, width, height);
        List<FaceBox> grouped = groupRectangles(raw, options.minNeighbors(), GROUP_EPS);
        List<FaceBox> out = new ArrayList<>(grouped.size());
        for (FaceBox b : grouped) out.add(insideImage(b, width, height));
        out.sort(Comparator.comparingInt(FaceBox::x).thenComparingInt(FaceBox::y).thenComparingInt(FaceBox::size));
        return out;
    }

    /**
     * {@code b} moved (and, if it is larger than the image, shrunk) so that it lies inside the
     * image. A window's corner and side are rounded from the pyramid level's coordinates (as
     * OpenCV does), so a window at the right or bottom edge of a level can reach a pixel or two
     * past the image; callers crop the box, so it must lie inside.
     */
    static FaceBox insideImage(FaceBox b, int width, int height) {
        int size = Math.min(b.size(), Math.min(width, height));
        int x = Math.clamp(b.x(), 0, width - size), y = Math.clamp(b.y(), 0, height - size);
        return x == b.x() && y == b.y() && size == b.size() ? b : new FaceBox(x, y, size, b.neighbors());
    }

    /**
     * Every accepted window before grouping, as {x, y, w, h} in image pixels, scale by scale (the
     * smallest windows first) and row by row. Large images are searched on several threads (the
     * common fork-join pool), one scale per task; the list is the same as on one thread.
     */
    public List<int[]> candidates(byte[] gray, int width, int height) {
        if (width <= 0 || height <= 0 || gray.length != (long) width * height) {
            throw new IllegalArgumentException("grey image of " + gray.length + " bytes is not " + width + "x" + height);
        }
        List<Float> scales = scales(width, height);
        long pixels = 0;
        for (float sc : scales) pixels += (long) (width / sc) * (long) (height / sc);
        List<List<int[]>> perScale;
        if (pixels >= PARALLEL_MIN_PIXELS && scales.size() > 1 && Runtime.getRuntime().availableProcessors() > 1) {
            perScale = IntStream.range(0, scales.size()).parallel().mapToObj(i -> scan(gray, width, height, scales.get(i), true)).toList();
        } else {
            perScale = new ArrayList<>(scales.size());
            for (float sc : scales) perScale.add(scan(gray, width, height, sc, true));
        }
        List<int[]> out = new ArrayList<>();
        for (List<int[]> l : perScale) out.addAll(l);
        return out;
    }

    /**
     * {@link #candidates} the plain way: on the calling thread, every window through
     * {@link LbpCascade#evaluate}'s tree walk. The reference the fast path is tested against.
     */
    List<int[]> candidatesReference(byte[] gray, int width, int height) {
        List<int[]> out = new ArrayList<>();
        for (float sc : scales(width, height)) out.addAll(scan(gray, width, height, sc, false));
        return out;
    }

    /**
     * Pixels summed over the pyramid's levels from which a search is split across threads: below
     * it (about a 300 x 200 photo) the tasks' start-up costs more than the second core gives.
     */
    static final long PARALLEL_MIN_PIXELS = 150_000;

    /** The pyramid's scale factors: window size within [minSize, maxSize] and the image. */
    private List<Float> scales(int width, int height) {
        int ww = cascade.windowWidth(), wh = cascade.windowHeight();
        int maxW = options.maxSize() > 0 ? options.maxSize() : width;
        int maxH = options.maxSize() > 0 ? options.maxSize() : height;
        List<Float> scales = new ArrayList<>();
        for (double factor = 1; ; factor *= options.scaleFactor()) {
            int winW = (int) Math.rint(ww * factor), winH = (int) Math.rint(wh * factor);
            if (winW > maxW || winH > maxH || winW > width || winH > height) {
                break;
            }
            if (winW < options.minSize() || winH < options.minSize()) {
                continue;
            }
            scales.add((float) factor);
        }
        return scales;
    }

    /** The accepted windows of one pyramid level; {@code fast}: the stump layout where the cascade allows it. */
    private List<int[]> scan(byte[] gray, int width, int height, float sc, boolean fast) {
        int ww = cascade.windowWidth(), wh = cascade.windowHeight();
        List<int[]> out = new ArrayList<>();
        int sw = (int) Math.rint(width / sc), sh = (int) Math.rint(height / sc);
        if (sw < ww || sh < wh) {
            return out;
        }
        byte[] scaled = sw == width && sh == height ? gray : resizeLinearExact(gray, width, height, sw, sh);
        int stride = sw + 1;
        int ystep = sc >= 2 ? 1 : 2;
        boolean vector = fast && stumpsOnly && VectorSupport.AVAILABLE;
        // with step 2 the vector lanes take every other column: the integral image holds its even
        // columns first, its odd ones from index split on, so that those windows lie side by side
        int split = vector && ystep == 2 ? (stride + 1) / 2 : 0;
        StumpCascade stumps = fast && stumpsOnly ? cascade.stumps(stride, split) : null;
        VectorStumps vec = vector ? new VectorStumps(stumps) : null;
        int pad = vector ? VectorStumps.LANES : 0;
        int[] sum = split > 0 ? integralSplit(scaled, sw, sh, pad) : integral(scaled, sw, sh, pad);
        int[] ofs = stumps == null ? cascade.offsets(stride) : null;
        int workW = Math.max(stride - ww, 0), workH = Math.max(sh + 1 - wh, 0);
        // windows per row in the integral image's layout, and the shift from a column to its index
        int rowWindows = split > 0 ? (workW + 1) / 2 : workW, shift = split > 0 ? 1 : 0;
        int[] results = vector ? new int[(rowWindows + VectorStumps.LANES - 1) / VectorStumps.LANES * VectorStumps.LANES] : null;
        int winW = (int) Math.rint(ww * sc), winH = (int) Math.rint(wh * sc);
        for (int y = 0; y < workH; y += ystep) {
            int row = y * stride;
            if (vector) {
                vec.evaluate(sum, row, rowWindows, results);
            }
            for (int x = 0; x < workW; x += ystep) {
                int result;
                if (vector) {
                    result = results[x >> shift];
                } else {
                    result = stumps != null ? stumps.evaluate(sum, row + x) : cascade.evaluate(sum, row + x, ofs);
                }
                if (result > 0) {
                    out.add(new int[] {(int) Math.rint(x * sc), (int) Math.rint(y * sc), winW, winH});
                }
                if (result == 0) {
                    // OpenCV: a window that fails the first stage lets the search skip the next one
                    x += ystep;
                }
            }
        }
        return out;
    }

    /** Integral image, (w + 1) x (h + 1) ints, first row and column zero. */
    static int[] integral(byte[] img, int w, int h) {
        return integral(img, w, h, 0);
    }

    /** {@link #integral(byte[], int, int)} followed by {@code pad} zeros (room for vector loads past the end). */
    static int[] integral(byte[] img, int w, int h, int pad) {
        int stride = w + 1;
        int[] s = new int[stride * (h + 1) + pad];
        for (int y = 0; y < h; y++) {
            int rowSum = 0;
            int src = y * w, dst = (y + 1) * stride + 1, up = y * stride + 1;
            for (int x = 0; x < w; x++) {
                rowSum += img[src + x] & 0xFF;
                s[dst + x] = s[up + x] + rowSum;
            }
        }
        return s;
    }

    /**
     * {@link #integral(byte[], int, int, int)} with each row's columns reordered: the even ones
     * (0, 2, 4, ...) first, then the odd ones from index {@code (w + 2) / 2} on (the layout of
     * {@link LbpCascade#offsets(int, int)}); rows are {@code w + 1} ints long as before.
     */
    static int[] integralSplit(byte[] img, int w, int h, int pad) {
        int stride = w + 1, split = (stride + 1) / 2;
        int[] s = new int[stride * (h + 1) + pad];
        for (int y = 0; y < h; y++) {
            int rowSum = 0;
            int src = y * w, dst = (y + 1) * stride, up = y * stride;
            // column c (1..w) of the plain layout: index c / 2 when c is even, split + c / 2 when odd
            for (int c = 1; c < w; c += 2) {
                rowSum += img[src + c - 1] & 0xFF;
                s[dst + split + c / 2] = s[up + split + c / 2] + rowSum;
                rowSum += img[src + c] & 0xFF;
                s[dst + (c + 1) / 2] = s[up + (c + 1) / 2] + rowSum;
            }
            if ((w & 1) == 1) {
                rowSum += img[src + w - 1] & 0xFF;
                s[dst + split + w / 2] = s[up + split + w / 2] + rowSum;
            }
        }
        return s;
    }

    /**
     * OpenCV's {@code resize(src, dst, Size(dw, dh), 0, 0, INTER_LINEAR_EXACT)} for 8-bit single
     * channel, which its cascade detector uses to build the pyramid: the source coordinate
     * {@code (d + 0.5) * (src / dst) - 0.5} (IEEE doubles), 8-bit fixed-point weights rounded half
     * to even, a horizontal pass kept with 8 fractional bits, a vertical pass with 16, rounded to
     * nearest; outside the source the edge row or column is repeated.
     */
    static byte[] resizeLinearExact(byte[] src, int sw, int sh, int dw, int dh) {
        return resizeLinearExact(src, sw, sh, dw, dh, VectorSupport.AVAILABLE);
    }

    /** {@link #resizeLinearExact(byte[], int, int, int, int)}, its vertical pass on {@link VectorResize} or not. */
    static byte[] resizeLinearExact(byte[] src, int sw, int sh, int dw, int dh, boolean vector) {
        Axis ax = new Axis(1.0 / ((double) dw / sw), sw, dw);
        Axis ay = new Axis(1.0 / ((double) dh / sh), sh, dh);
        byte[] dst = new byte[dw * dh];
        int[] lineA = new int[dw], lineB = new int[dw];
        int lineAIdx = -1, lineBIdx = -1;
        for (int dy = 0; dy < dh; dy++) {
            int o = dy * dw;
            if (dy < ay.min || dy >= ay.max) {
                // above the first or below the last source row centre: that row, rounded
                int sy = dy < ay.min ? 0 : sh - 1;
                if (lineAIdx != sy) {
                    hline(src, sw, sy, ax, lineA);
                    lineAIdx = sy;
                }
                for (int x = 0; x < dw; x++) {
                    dst[o + x] = (byte) ((lineA[x] + 128) >> 8);
                }
                continue;
            }
            int sy0 = ay.ofs[dy], sy1 = sy0 + 1;
            if (lineAIdx != sy0) {
                if (lineBIdx == sy0) {
                    int[] t = lineA; lineA = lineB; lineB = t;
                    lineAIdx = sy0;
                    lineBIdx = -1;
                } else {
                    hline(src, sw, sy0, ax, lineA);
                    lineAIdx = sy0;
                }
            }
            if (lineBIdx != sy1) {
                hline(src, sw, sy1, ax, lineB);
                lineBIdx = sy1;
            }
            int c0 = ay.c0[dy], c1 = ay.c1[dy];
            int x = vector ? VectorResize.vertical(lineA, lineB, c0, c1, dst, o, dw) : 0;
            for (; x < dw; x++) {
                int v = (lineA[x] * c0 + lineB[x] * c1 + (1 << 15)) >>> 16;
                dst[o + x] = (byte) Math.min(v, 255);
            }
        }
        return dst;
    }

    /** One source row resampled horizontally, values with 8 fractional bits. */
    private static void hline(byte[] src, int sw, int sy, Axis ax, int[] out) {
        int base = sy * sw;
        int dw = out.length;
        int i = 0;
        int first = (src[base] & 0xFF) << 8;
        for (; i < ax.min && i < dw; i++) {
            out[i] = first;
        }
        for (; i < ax.max; i++) {
            int p = base + ax.ofs[i];
            out[i] = ax.c0[i] * (src[p] & 0xFF) + ax.c1[i] * (src[p + 1] & 0xFF);
        }
        if (i < dw) {
            int last = (src[base + ax.ofs[dw - 1]] & 0xFF) << 8;
            for (; i < dw; i++) {
                out[i] = last;
            }
        }
    }

    /** OpenCV's {@code interpolationLinear} coefficients along one axis. */
    private static final class Axis {
        final int[] ofs, c0, c1;
        int min, max;

        Axis(double scale, int srcSize, int dstSize) {
            ofs = new int[dstSize];
            c0 = new int[dstSize];
            c1 = new int[dstSize];
            min = 0;
            max = dstSize;
            for (int d = 0; d < dstSize; d++) {
                double f = scale * (d + 0.5) - 0.5;
                int i = (int) Math.floor(f);
                if (i >= 0 && srcSize > 1) {
                    if (i < srcSize - 1) {
                        ofs[d] = i;
                        c1[d] = (int) Math.rint((f - i) * 256);
                        c0[d] = 256 - c1[d];
                    } else {
                        ofs[d] = srcSize - 1;
                        max = Math.min(max, d);
                    }
                } else {
                    min = Math.max(min, d + 1);
                }
            }
        }
    }

    /**
     * OpenCV's {@code groupRectangles(rects, groupThreshold, eps)}: partitions the rectangles into
     * classes of similar ones (corners within {@code eps * (min width + min height) / 2}), averages
     * each class, drops classes of {@code groupThreshold} or fewer rectangles, and drops a class
     * lying inside a bigger, better supported one.
     */
    public static List<FaceBox> groupRectangles(List<int[]> rects, int groupThreshold, double eps) {
        int n = rects.size();
        List<FaceBox> out = new ArrayList<>();
        if (n == 0) {
            return out;
        }
        if (groupThreshold <= 0) {
            for (int[] r : rects) {
                out.add(new FaceBox(r[0], r[1], r[2], 1));
            }
            return out;
        }
        // union-find partition; classes numbered by first member, as cv::partition
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) parent[i] = i;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                if (similar(rects.get(i), rects.get(j), eps)) {
                    int a = find(parent, i), b = find(parent, j);
                    if (a != b) parent[Math.max(a, b)] = Math.min(a, b);
                }
            }
        }
        int[] label = new int[n];
        int[] classOfRoot = new int[n];
        java.util.Arrays.fill(classOfRoot, -1);
        int nclasses = 0;
        for (int i = 0; i < n; i++) {
            int r = find(parent, i);
            if (classOfRoot[r] < 0) classOfRoot[r] = nclasses++;
            label[i] = classOfRoot[r];
        }
        long[][] acc = new long[nclasses][4];
        int[] weight = new int[nclasses];
        for (int i = 0; i < n; i++) {
            int[] r = rects.get(i);
            long[] a = acc[label[i]];
            a[0] += r[0];
            a[1] += r[1];
            a[2] += r[2];
            a[3] += r[3];
            weight[label[i]]++;
        }
        int[][] avg = new int[nclasses][4];
        for (int c = 0; c < nclasses; c++) {
            float s = 1.f / weight[c];
            for (int k = 0; k < 4; k++) {
                avg[c][k] = (int) Math.rint(acc[c][k] * s);
            }
        }
        for (int i = 0; i < nclasses; i++) {
            int[] r1 = avg[i];
            int n1 = weight[i];
            if (n1 <= groupThreshold) continue;
            boolean inside = false;
            for (int j = 0; j < nclasses && !inside; j++) {
                int n2 = weight[j];
                if (j == i || n2 <= groupThreshold) continue;
                int[] r2 = avg[j];
                int dx = (int) Math.rint(r2[2] * eps), dy = (int) Math.rint(r2[3] * eps);
                inside = r1[0] >= r2[0] - dx && r1[1] >= r2[1] - dy
                        && r1[0] + r1[2] <= r2[0] + r2[2] + dx && r1[1] + r1[3] <= r2[1] + r2[3] + dy
                        && (n2 > Math.max(3, n1) || n1 < 3);
            }
            if (!inside) {
                out.add(new FaceBox(r1[0], r1[1], Math.max(1, (r1[2] + r1[3] + 1) / 2), n1));
            }
        }
        return out;
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    /** OpenCV's {@code SimilarRects}. */
    static boolean similar(int[] a, int[] b, double eps) {
        double delta = eps * (Math.min(a[2], b[2]) + Math.min(a[3], b[3])) * 0.5;
        return Math.abs(a[0] - b[0]) <= delta && Math.abs(a[1] - b[1]) <= delta
                && Math.abs(a[0] + a[2] - b[0] - b[2]) <= delta && Math.abs(a[1] + a[3] - b[1] - b[3]) <= delta;
    }
}
