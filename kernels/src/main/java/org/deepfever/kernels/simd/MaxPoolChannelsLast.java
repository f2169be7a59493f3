package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.op.MaxPool2d;

/**
 * Max pooling of a channels-last input ({@link Tensor#isChannelsLast()}): per output pixel, the
 * lane-wise max of the window's pixel vectors, a channel vector at a time (each load is whole
 * vectors, no shuffles). The output is channels-last (stored as vectors) or NCHW (a block of
 * {@link #BLOCK} output pixels collected in scratch, then each channel's run of pixels gathered with
 * one vector gather and stored).
 *
 * <p>Padding never wins: only the window's positions inside the input are read. NaN propagates
 * (lane-wise max is {@link Math#max}).
 */
final class MaxPoolChannelsLast {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;
    /** Output pixels collected before an NCHW output is written (one vector per channel). */
    static final int BLOCK = L;

    private MaxPoolChannelsLast() {}

    /** Tasks for one call: rows of output pixels split over the threads when there is enough work. */
    static int tasks(Shape out, int threads) {
        return threads == 1 || out.size() < 4096 ? 1 : Math.min(out.dim(0) * out.dim(2), threads);
    }

    /** Scratch for the NCHW-output transpose buffers (enough for either output layout). */
    static long scratchFloats(Shape out, int threads) {
        return (long) tasks(out, threads) * BLOCK * out.dim(1);
    }

    /**
     * Gather indexes for an NCHW output: lane i reads pixel i of a block, {@code c} floats apart;
     * one more entry holds {@code c} itself, so that a cached array says which channel count it is for.
     */
    static int[] blockIndexes(int c) {
        int[] idx = new int[L + 1];
        for (int i = 0; i < L; i++) idx[i] = i * c;
        idx[L] = c;
        return idx;
    }

    /** {@code idx}: {@link #blockIndexes} of the channel count (unused for a channels-last output). */
    static void run(MaxPool2d m, Tensor x, Tensor out, int[] idx, ExecContext ctx) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
        int xs = Math.toIntExact(x.pixelStride());
        boolean outCl = out.isChannelsLast();
        int os = outCl ? Math.toIntExact(out.pixelStride()) : 0;
        long xb = x.batchStride(), ob = out.batchStride();
        int units = n * oh;
        int tasks = tasks(out.shape(), ctx.pool().threads());
        float[] xa = x.array(), oa = out.array(), scratch = ctx.scratch();
        if (!outCl && (long) tasks * BLOCK * c > scratch.length) {
            throw new IllegalStateException("max-pool scratch too small: " + scratch.length + " < " + (long) tasks * BLOCK * c);
        }
        int kh = m.kernelH(), kw = m.kernelW(), sh = m.strideH(), sw = m.strideW(), pt = m.padTop(), pl = m.padLeft();
        ctx.pool().parallelFor(tasks, t -> {
            int u0 = (int) ((long) units * t / tasks), u1 = (int) ((long) units * (t + 1) / tasks);
            int buf = t * BLOCK * c;
            for (int u = u0; u < u1; u++) {
                int img = u / oh, oy = u % oh;
                int xImg = Math.toIntExact(x.offset() + img * xb), oImg = Math.toIntExact(out.offset() + img * ob);
                int y0 = Math.max(0, oy * sh - pt), y1 = Math.min(h, oy * sh - pt + kh);
                for (int ox0 = 0; ox0 < ow; ox0 += BLOCK) {
                    int len = Math.min(BLOCK, ow - ox0);
                    for (int i = 0; i < len; i++) {
                        int ox = ox0 + i;
                        int x0 = Math.max(0, ox * sw - pl), x1 = Math.min(w, ox * sw - pl + kw);
                        if (outCl) pixel(xa, xImg, xs, w, y0, y1, x0, x1, c, oa, oImg + (oy * ow + ox) * os);
                        else pixel(xa, xImg, xs, w, y0, y1, x0, x1, c, scratch, buf + i * c);
                    }
                    if (!outCl) blockOut(scratch, buf, c, len, idx, oa, oImg + oy * ow + ox0, oh * ow);
                }
            }
        });
    }

    /**
     * A block of {@code len} pixels' channels (pixel-major in scratch) out to NCHW: per channel one
     * gather and store when the block is full. A method of its own so that C2 compiles it early
     * (the task lambda runs once per inference; the Vector API is slow until compiled).
     */
    private static void blockOut(float[] block, int buf, int c, int len, int[] idx, float[] oa, int o, int plane) {
        if (len == BLOCK) {
            for (int ch = 0; ch < c; ch++, o += plane) FloatVector.fromArray(S, block, buf + ch, idx, 0).intoArray(oa, o);
        } else {
            for (int ch = 0; ch < c; ch++, o += plane) {
                for (int i = 0; i < len; i++) oa[o + i] = block[buf + i * c + ch];
            }
        }
    }

    /**
     * dst[d .. d+c) = max over window rows [y0, y1) x columns [x0, x1) of the input pixels' channels.
     *
     * <p>Each update is PyTorch's, lane-wise: the new value {@code n} wins when it is greater or NaN
     * (so NaN propagates, and of equal values the first wins): {@code v.blend(n, v.lt(n).or(n.test(IS_NAN)))},
     * four instructions where {@link FloatVector#max}'s Java semantics compile to six on AVX-512, which
     * made the pool bound by its max sequences (64x67x67 channels-last: 55 us). It is written out at
     * each use rather than called as a method taking vectors: with the method, C2 sometimes compiled
     * this loop with the compare, mask or and blend inside it left as calls, every call boxed its
     * vectors, and the whole run stayed slow (1000 crops on an Intel Xeon, 4 of 9 runs: 60-64 against
     * 80-87 faces/s, 15.7 GB of garbage from the pool); written out, none of the next 20 runs did.
     */
    private static void pixel(float[] xa, int xImg, int xs, int w, int y0, int y1, int x0, int x1, int c, float[] dst, int d) {
        int full = Simd.loopBound(c);
        int ch = 0;
        // four channel vectors per pass (independent update chains)
        for (; ch + 4 * L <= full; ch += 4 * L) {
            FloatVector v0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), v1 = v0, v2 = v0, v3 = v0;
            for (int y = y0; y < y1; y++) {
                for (int xx = x0, p = xImg + (y * w + x0) * xs + ch; xx < x1; xx++, p += xs) {
                    FloatVector n0 = FloatVector.fromArray(S, xa, p), n1 = FloatVector.fromArray(S, xa, p + L);
                    FloatVector n2 = FloatVector.fromArray(S, xa, p + 2 * L), n3 = FloatVector.fromArray(S, xa, p + 3 * L);
                    v0 = v0.blend(n0, v0.lt(n0).or(n0.test(VectorOperators.IS_NAN)));
                    v1 = v1.blend(n1, v1.lt(n1).or(n1.test(VectorOperators.IS_NAN)));
                    v2 = v2.blend(n2, v2.lt(n2).or(n2.test(VectorOperators.IS_NAN)));
                    v3 = v3.blend(n3, v3.lt(n3).or(n3.test(VectorOperators.IS_NAN)));
                }
            }
            v0.intoArray(dst, d + ch);
            v1.intoArray(dst, d + ch + L);
            v2.intoArray(dst, d + ch + 2 * L);
            v3.intoArray(dst, d + ch + 3 * L);
        }
        for (; ch < full; ch += L) {
            FloatVector v = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int y = y0; y < y1; y++) {
                for (int xx = x0, p = xImg + (y * w + x0) * xs + ch; xx < x1; xx++, p += xs) {
                    FloatVector n = FloatVector.fromArray(S, xa, p);
                    v = v.blend(n, v.lt(n).or(n.test(VectorOperators.IS_NAN)));
                }
            }
            v.intoArray(dst, d + ch);
        }
        for (; ch < c; ch++) {
            float v = Float.NEGATIVE_INFINITY;
            for (int y = y0; y < y1; y++) {
                for (int xx = x0, p = xImg + (y * w + x0) * xs + ch; xx < x1; xx++, p += xs) v = Math.max(v, xa[p]);
            }
            dst[d + ch] = v;
        }
    }
}
