package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.Vector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.DepthwiseConv2d;

/**
 * Depthwise convolution (channel multiplier 1) on the Vector API, in one of two forms chosen by the
 * input's layout:
 *
 * <p><b>Channel vectors</b> (an input whose channels are consecutive: the executor's channels-last
 * buffers): each output pixel is, per vector of L channels, the sum over the taps inside the input
 * of a vector of input channels times the tap's vector of weights (packed tap-major, channels
 * zero-padded to whole vectors); a last partial vector of channels uses masked loads and stores.
 * The output is stored as vectors when it is channels-last too, else scattered to its channel
 * planes. No padded copy: the taps of each pixel are clipped to the input.
 *
 * <p><b>Planes</b> (NCHW input, and every input on the scalar path): per channel plane, the input is
 * copied once into a zero-bordered scratch plane (ReLU applied there if asked), split by column
 * phase for strides above 1 (phase q holds padded columns q, q + s, q + 2s, ...), so that every tap
 * of a vector of L consecutive outputs in a row is one unaligned load; the last partial vector of a
 * row is stored masked (NCHW output) or scattered (channels-last output).
 *
 * <p>Both forms accumulate in float with FMA, in tap order (ky, kx), starting from the bias. Work is
 * split into contiguous runs of output rows (channel vectors) or planes (planes form) over the pool;
 * small calls run on the calling thread.
 */
final class DepthwiseConvKernel implements Kernel {
    static final VectorSpecies<Float> S = Simd.SPECIES;
    /** Accumulators pass through {@code V.cast} where they are an FMA's addend: see {@link Simd#VECTOR}. */
    private static final Class<? extends Vector<Float>> V = Simd.VECTOR;
    static final int L = Simd.LANES;
    /** Below this many multiply-adds per call, the call runs on the calling thread only. */
    static final long PARALLEL_MIN_MACS = 150_000;
    /**
     * Output pixels per register tile of the channel-vector form: one FMA chain per pixel, so that
     * the FMA latency is hidden (a single chain per output ran at a tenth of the FMA throughput).
     */
    static final int TILE = 4;

    private final int c, kh, kw, sh, sw, pt, pl;
    private final boolean reluIn, reluOut;
    /** Per channel, its kh*kw weights (planes form). */
    private final float[] wPlane;
    /** Per channel, the bias (0 without one). */
    private final float[] bias;
    /** Channels rounded up to whole vectors. */
    private final int cPad;
    /** Per tap, the weights of all channels (zero-padded to cPad): the channel-vector form. */
    private final float[] wTap;
    private final float[] biasPad;

    DepthwiseConvKernel(DepthwiseConv2d d) {
        c = d.channels();
        kh = d.kernelH();
        kw = d.kernelW();
        sh = d.strideH();
        sw = d.strideW();
        pt = d.padTop();
        pl = d.padLeft();
        reluIn = d.reluInput();
        reluOut = d.activation() == Activation.RELU;
        wPlane = d.weight().toFloatArray();
        bias = d.bias() == null ? new float[c] : d.bias().toFloatArray();
        cPad = (c + L - 1) / L * L;
        int taps = kh * kw;
        wTap = new float[taps * cPad];
        for (int ch = 0; ch < c; ch++) {
            for (int t = 0; t < taps; t++) wTap[t * cPad + ch] = wPlane[ch * taps + t];
        }
        biasPad = java.util.Arrays.copyOf(bias, cPad);
    }

    // ------------------------------------------------------------------ executor contract

    /** Both forms read and write either layout; the scalar path keeps to NCHW, as the other kernels do. */
    @Override public boolean acceptsChannelsLast(int input, Shape[] inputs, Shape output) { return !Simd.SCALAR; }

    @Override public boolean writesChannelsLast(Shape[] inputs, Shape output) { return !Simd.SCALAR; }

    @Override
    public long scratchFloats(Shape[] inputs, Shape output, int threads) {
        Shape x = inputs[0];
        int oh = output.dim(2), ow = output.dim(3);
        long planes = (long) planeTasks(x.dim(0) * c, macs(output), threads) * planeFloats(oh, ow);
        return planes;
    }

    private long macs(Shape out) { return (long) out.dim(0) * c * out.dim(2) * out.dim(3) * kh * kw; }

    private static int tasks(int units, long macs, int threads) {
        if (threads == 1 || macs < PARALLEL_MIN_MACS) return 1;
        return Math.min(units, threads * 4);
    }

    private int planeTasks(int planes, long macs, int threads) { return tasks(planes, macs, threads); }

    // ------------------------------------------------------------------ run

    @Override
    public void run(Tensor[] inputs, Tensor output, ExecContext ctx) {
        Tensor x = inputs[0];
        if (!Simd.SCALAR && x.stride(1) == 1) runChannelVectors(x, output, ctx);
        else runPlanes(x, output, ctx);
    }

    /** Channel-vector form: see the class comment. Any input whose channel stride is 1. */
    private void runChannelVectors(Tensor x, Tensor out, ExecContext ctx) {
        final int n = x.dim(0), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
        final float[] xa = x.array(), oa = out.array();
        final int xo = x.arrayOffset(), xbs = Math.toIntExact(x.batchStride()), xrs = Math.toIntExact(x.stride(2)), xps = Math.toIntExact(x.stride(3));
        final int oo = out.arrayOffset(), obs = Math.toIntExact(out.batchStride()), ocs = Math.toIntExact(out.stride(1));
        final int ors = Math.toIntExact(out.stride(2)), ops = Math.toIntExact(out.stride(3));
        final int[] scatter = ocs == 1 ? null : laneIndexes(ocs);
        final int full = c / L * L;
        final VectorMask<Float> tail = full < c ? S.indexInRange(full, c) : null;
        final int rows = n * oh;
        final int tasks = tasks(rows, macs(out.shape()), ctx.pool().threads());
        ctx.pool().parallelFor(tasks, t -> {
            float[] lanes = scatter != null && tail != null ? new float[L] : null;
            int r0 = (int) ((long) rows * t / tasks), r1 = (int) ((long) rows * (t + 1) / tasks);
            for (int r = r0; r < r1; r++) {
                int img = r / oh, oy = r % oh;
                int iy0 = oy * sh - pt;
                int ky0 = Math.max(0, -iy0), ky1 = Math.min(kh, h - iy0);
                int xImg = xo + img * xbs, oRow = oo + img * obs + oy * ors;
                for (int ox = 0; ox < ow; ) {
                    int ix0 = ox * sw - pl;
                    int src = xImg + iy0 * xrs + ix0 * xps, dst = oRow + ox * ops;
                    if (ox + TILE <= ow && ix0 >= 0 && (ox + TILE - 1) * sw - pl + kw <= w) {
                        // TILE pixels whose windows lie inside the input across: independent accumulators
                        for (int c0 = 0; c0 < full; c0 += L) tile(xa, src + c0, xrs, xps, c0, ky0, ky1, oa, dst, ops, ocs, scatter);
                        for (int j = 0; tail != null && j < TILE; j++) {
                            FloatVector acc = pixelMasked(xa, src + j * sw * xps + full, xrs, xps, full, ky0, ky1, 0, kw, tail);
                            store(acc, oa, dst + j * ops, full, ocs, scatter, tail, lanes, c - full);
                        }
                        ox += TILE;
                        continue;
                    }
                    int kx0 = Math.max(0, -ix0), kx1 = Math.min(kw, w - ix0);
                    for (int c0 = 0; c0 < full; c0 += L) {
                        FloatVector acc = pixel(xa, src + c0, xrs, xps, c0, ky0, ky1, kx0, kx1);
                        if (scatter == null) acc.intoArray(oa, dst + c0);
                        else acc.intoArray(oa, dst + c0 * ocs, scatter, 0);
                    }
                    if (tail != null) {
                        FloatVector acc = pixelMasked(xa, src + full, xrs, xps, full, ky0, ky1, kx0, kx1, tail);
                        store(acc, oa, dst, full, ocs, scatter, tail, lanes, c - full);
                    }
                    ox++;
                }
            }
        });
    }

    /** A masked (partial) vector of channels from c0 of the output pixel at {@code dst}, either layout. */
    private static void store(FloatVector acc, float[] oa, int dst, int c0, int ocs, int[] scatter, VectorMask<Float> m, float[] lanes, int count) {
        if (scatter == null) acc.intoArray(oa, dst + c0, m);
        else scatterSome(acc, lanes, count, oa, dst + c0 * ocs, ocs);
    }

    /**
     * One full vector of channels (from c0) of {@link #TILE} consecutive output pixels of a row, all
     * of whose windows lie inside the input across: four independent FMA chains, each tap's weights
     * loaded once for the four. {@code src} addresses the first pixel's tap (0, 0) at channel c0.
     */
    private void tile(float[] xa, int src, int xrs, int xps, int c0, int ky0, int ky1, float[] oa, int dst, int ops, int ocs, int[] scatter) {
        FloatVector a0 = FloatVector.fromArray(S, biasPad, c0), a1 = a0, a2 = a0, a3 = a0;
        int step = sw * xps;
        for (int ky = ky0; ky < ky1; ky++) {
            int row = src + ky * xrs, wRow = ky * kw * cPad + c0;
            for (int kx = 0; kx < kw; kx++) {
                FloatVector wv = FloatVector.fromArray(S, wTap, wRow + kx * cPad);
                int p = row + kx * xps;
                a0 = load(xa, p).fma(wv, (FloatVector) V.cast(a0));
                a1 = load(xa, p + step).fma(wv, (FloatVector) V.cast(a1));
                a2 = load(xa, p + 2 * step).fma(wv, (FloatVector) V.cast(a2));
                a3 = load(xa, p + 3 * step).fma(wv, (FloatVector) V.cast(a3));
            }
        }
        if (reluOut) {
            a0 = Simd.relu(a0);
            a1 = Simd.relu(a1);
            a2 = Simd.relu(a2);
            a3 = Simd.relu(a3);
        }
        if (scatter == null) {
            a0.intoArray(oa, dst + c0);
            a1.intoArray(oa, dst + ops + c0);
            a2.intoArray(oa, dst + 2 * ops + c0);
            a3.intoArray(oa, dst + 3 * ops + c0);
        } else {
            int o = dst + c0 * ocs;
            a0.intoArray(oa, o, scatter, 0);
            a1.intoArray(oa, o + ops, scatter, 0);
            a2.intoArray(oa, o + 2 * ops, scatter, 0);
            a3.intoArray(oa, o + 3 * ops, scatter, 0);
        }
    }

    /** A vector of input channels, ReLU'd if asked. */
    private FloatVector load(float[] xa, int at) {
        FloatVector v = FloatVector.fromArray(S, xa, at);
        return reluIn ? Simd.relu(v) : v;
    }

    /** One vector of channels of one output pixel: {@code src} addresses tap (0, 0) at channel c0. */
    private FloatVector pixel(float[] xa, int src, int xrs, int xps, int c0, int ky0, int ky1, int kx0, int kx1) {
        FloatVector acc = FloatVector.fromArray(S, biasPad, c0);
        for (int ky = ky0; ky < ky1; ky++) {
            int row = src + ky * xrs, wRow = ky * kw * cPad + c0;
            for (int kx = kx0; kx < kx1; kx++) {
                FloatVector v = FloatVector.fromArray(S, xa, row + kx * xps);
                if (reluIn) v = Simd.relu(v);
                acc = v.fma(FloatVector.fromArray(S, wTap, wRow + kx * cPad), (FloatVector) V.cast(acc));
            }
        }
        return reluOut ? Simd.relu(acc) : acc;
    }

    /** {@link #pixel} for the last, partial vector of channels (lanes past C are masked off). */
    private FloatVector pixelMasked(float[] xa, int src, int xrs, int xps, int c0, int ky0, int ky1, int kx0, int kx1, VectorMask<Float> m) {
        FloatVector acc = FloatVector.fromArray(S, biasPad, c0);
        for (int ky = ky0; ky < ky1; ky++) {
            int row = src + ky * xrs, wRow = ky * kw * cPad + c0;
            for (int kx = kx0; kx < kx1; kx++) {
                FloatVector v = FloatVector.fromArray(S, xa, row + kx * xps, m);
                if (reluIn) v = Simd.relu(v);
                acc = v.fma(FloatVector.fromArray(S, wTap, wRow + kx * cPad), (FloatVector) V.cast(acc));
            }
        }
        return reluOut ? Simd.relu(acc) : acc;
    }

    /**
     * The first {@code count} lanes of {@code v} to {@code a[at + i * stride]}, through {@code lanes}
     * (a masked scatter range-checks its masked-off lanes too, which may point past the array).
     */
    private static void scatterSome(FloatVector v, float[] lanes, int count, float[] a, int at, int stride) {
        v.intoArray(lanes, 0);
        for (int i = 0; i < count; i++) a[at + i * stride] = lanes[i];
    }

    /** 0, stride, 2 * stride, ...: scatter indexes of one vector along a dimension of that stride. */
    private static int[] laneIndexes(int stride) {
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) idx[i] = i * stride;
        return idx;
    }

    // ------------------------------------------------------------------ planes form

    /** Rows of the padded scratch plane: every row an output reads. */
    private int paddedRows(int oh) { return (oh - 1) * sh + kh; }

    /** Vectors of outputs per row in the planes form: groups of four where a row has three or more. */
    private static int rowVectors(int ow) {
        int nv = (ow + L - 1) / L;
        return nv >= 3 ? (nv + 3) / 4 * 4 : nv;
    }

    /** Columns of one phase plane: the row's vectors of outputs, plus the taps' reach past them. */
    private int phaseCols(int ow) { return rowVectors(ow) * L + (kw - 1) / sw; }

    private int planeFloats(int oh, int ow) { return sw * paddedRows(oh) * phaseCols(ow); }

    /** Planes form: see the class comment. Any input layout (read through its strides). */
    private void runPlanes(Tensor x, Tensor out, ExecContext ctx) {
        final int n = x.dim(0), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
        final float[] xa = x.array(), oa = out.array(), scratch = ctx.scratch();
        final int xo = x.arrayOffset(), xbs = Math.toIntExact(x.batchStride()), xcs = Math.toIntExact(x.stride(1));
        final int xrs = Math.toIntExact(x.stride(2)), xps = Math.toIntExact(x.stride(3));
        final int oo = out.arrayOffset(), obs = Math.toIntExact(out.batchStride()), ocs = Math.toIntExact(out.stride(1));
        final int ors = Math.toIntExact(out.stride(2)), ops = Math.toIntExact(out.stride(3));
        final int hp = paddedRows(oh), wph = phaseCols(ow), per = planeFloats(oh, ow);
        final int[] scatter = Simd.SCALAR || ops == 1 ? null : laneIndexes(ops);
        final int planes = n * c;
        final int tasks = planeTasks(planes, macs(out.shape()), ctx.pool().threads());
        if ((long) tasks * per > scratch.length) throw new IllegalStateException("depthwise conv scratch too small: " + scratch.length + " < " + (long) tasks * per);
        ctx.pool().parallelFor(tasks, t -> {
            int base = t * per;
            float[] lanes = scatter != null ? new float[L] : null;
            int p0 = (int) ((long) planes * t / tasks), p1 = (int) ((long) planes * (t + 1) / tasks);
            for (int p = p0; p < p1; p++) {
                int img = p / c, ch = p % c;
                fillPlane(xa, xo + img * xbs + ch * xcs, xrs, xps, h, w, scratch, base, hp, wph);
                int dst = oo + img * obs + ch * ocs;
                for (int oy = 0; oy < oh; oy++) {
                    int rowOut = dst + oy * ors;
                    if (Simd.SCALAR) scalarRow(scratch, base, hp, wph, ch, oy, ow, oa, rowOut, ops);
                    else vectorRow(scratch, base, hp, wph, ch, oy, ow, oa, rowOut, ops, scatter, lanes);
                }
            }
        });
    }

    /**
     * Copies one input plane into the scratch phase planes at {@code base} (padded row py = iy + pt,
     * padded column px = ix + pl, phase px % sw, column px / sw), ReLU'd if asked, and zeroes every
     * scratch element no input value lands on (the padding, and the vector slack past the row).
     */
    private void fillPlane(float[] xa, int src, int xrs, int xps, int h, int w, float[] s, int base, int hp, int wph) {
        for (int q = 0; q < sw; q++) {
            // columns j of phase q that hold input values: px = j * sw + q in [pl, pl + w)
            int j0 = Math.max(0, Math.ceilDiv(pl - q, sw)), j1 = Math.min(wph, Math.floorDiv(pl + w - 1 - q, sw) + 1);
            for (int py = 0; py < hp; py++) {
                int row = base + (q * hp + py) * wph;
                int iy = py - pt;
                if (iy < 0 || iy >= h || j0 >= j1) {
                    java.util.Arrays.fill(s, row, row + wph, 0f);
                    continue;
                }
                java.util.Arrays.fill(s, row, row + j0, 0f);
                java.util.Arrays.fill(s, row + j1, row + wph, 0f);
                int from = src + iy * xrs + (j0 * sw + q - pl) * xps;
                if (sw == 1 && xps == 1) copyRow(xa, from, s, row + j0, j1 - j0);
                else {
                    int step = sw * xps;
                    for (int j = j0, i = from; j < j1; j++, i += step) {
                        float v = xa[i];
                        s[row + j] = reluIn && v < 0f ? 0f : v;
                    }
                }
            }
        }
    }

    /** {@code d[do ..] = relu?(a[from ..])} for {@code len} contiguous floats. */
    private void copyRow(float[] a, int from, float[] d, int to, int len) {
        if (!reluIn) {
            System.arraycopy(a, from, d, to, len);
            return;
        }
        int i = 0;
        for (int end = Simd.loopBound(len); i < end; i += L) Simd.relu(FloatVector.fromArray(S, a, from + i)).intoArray(d, to + i);
        for (; i < len; i++) {
            float v = a[from + i];
            d[to + i] = v < 0f ? 0f : v;
        }
    }

    /**
     * One output row of channel {@code ch}, vectors along it (four at a time on rows of three vectors
     * or more: independent FMA chains); the last partial vector masked, vectors wholly past the row
     * not stored.
     */
    private void vectorRow(float[] s, int base, int hp, int wph, int ch, int oy, int ow, float[] oa, int rowOut, int ops, int[] scatter, float[] lanes) {
        int wo = ch * kh * kw;
        FloatVector b = FloatVector.broadcast(S, bias[ch]);
        int nv = rowVectors(ow);
        if (nv >= 3) {
            for (int ox = 0; ox < ow; ox += 4 * L) {
                FloatVector a0 = b, a1 = b, a2 = b, a3 = b;
                for (int ky = 0; ky < kh; ky++) {
                    int py = oy * sh + ky;
                    for (int kx = 0; kx < kw; kx++) {
                        int at = base + ((kx % sw) * hp + py) * wph + ox + kx / sw;
                        FloatVector wv = FloatVector.broadcast(S, wPlane[wo + ky * kw + kx]);
                        a0 = FloatVector.fromArray(S, s, at).fma(wv, (FloatVector) V.cast(a0));
                        a1 = FloatVector.fromArray(S, s, at + L).fma(wv, (FloatVector) V.cast(a1));
                        a2 = FloatVector.fromArray(S, s, at + 2 * L).fma(wv, (FloatVector) V.cast(a2));
                        a3 = FloatVector.fromArray(S, s, at + 3 * L).fma(wv, (FloatVector) V.cast(a3));
                    }
                }
                storeRow(a0, oa, rowOut, ox, ow, ops, scatter, lanes);
                storeRow(a1, oa, rowOut, ox + L, ow, ops, scatter, lanes);
                storeRow(a2, oa, rowOut, ox + 2 * L, ow, ops, scatter, lanes);
                storeRow(a3, oa, rowOut, ox + 3 * L, ow, ops, scatter, lanes);
            }
            return;
        }
        for (int ox = 0; ox < ow; ox += L) {
            FloatVector acc = b;
            for (int ky = 0; ky < kh; ky++) {
                int py = oy * sh + ky;
                for (int kx = 0; kx < kw; kx++) {
                    int at = base + ((kx % sw) * hp + py) * wph + ox + kx / sw;
                    acc = FloatVector.fromArray(S, s, at).fma(FloatVector.broadcast(S, wPlane[wo + ky * kw + kx]), (FloatVector) V.cast(acc));
                }
            }
            storeRow(acc, oa, rowOut, ox, ow, ops, scatter, lanes);
        }
    }

    /** Outputs [ox, ox + L) of a row (those before {@code ow}), ReLU'd if asked, NCHW or scattered to a channels-last output. */
    private void storeRow(FloatVector acc, float[] oa, int rowOut, int ox, int ow, int ops, int[] scatter, float[] lanes) {
        if (ox >= ow) return;
        if (reluOut) acc = Simd.relu(acc);
        if (scatter == null) {
            if (ox + L <= ow) acc.intoArray(oa, rowOut + ox);
            else acc.intoArray(oa, rowOut + ox, S.indexInRange(ox, ow));
        } else if (ox + L <= ow) {
            acc.intoArray(oa, rowOut + ox * ops, scatter, 0);
        } else {
            scatterSome(acc, lanes, ow - ox, oa, rowOut + ox * ops, ops);
        }
    }

    /** {@link #vectorRow} on the scalar path. */
    private void scalarRow(float[] s, int base, int hp, int wph, int ch, int oy, int ow, float[] oa, int rowOut, int ops) {
        int wo = ch * kh * kw;
        for (int ox = 0; ox < ow; ox++) {
            float acc = bias[ch];
            for (int ky = 0; ky < kh; ky++) {
                int py = oy * sh + ky;
                for (int kx = 0; kx < kw; kx++) {
                    acc = Math.fma(s[base + ((kx % sw) * hp + py) * wph + ox + kx / sw], wPlane[wo + ky * kw + kx], acc);
                }
            }
            oa[rowOut + ox * ops] = reluOut && acc < 0f ? 0f : acc;
        }
    }
}
