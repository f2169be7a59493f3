package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
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
    static final int L = Simd.LANES;
    /** Below this many multiply-adds per call, the call runs on the calling thread only. */
    static final long PARALLEL_MIN_MACS = 150_000;

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
                for (int ox = 0; ox < ow; ox++) {
                    int ix0 = ox * sw - pl;
                    int kx0 = Math.max(0, -ix0), kx1 = Math.min(kw, w - ix0);
                    int src = xImg + iy0 * xrs + ix0 * xps, dst = oRow + ox * ops;
                    for (int c0 = 0; c0 < full; c0 += L) {
                        FloatVector acc = pixel(xa, src + c0, xrs, xps, c0, ky0, ky1, kx0, kx1);
                        if (scatter == null) acc.intoArray(oa, dst + c0);
                        else acc.intoArray(oa, dst + c0 * ocs, scatter, 0);
                    }
                    if (tail != null) {
                        FloatVector acc = pixelMasked(xa, src + full, xrs, xps, full, ky0, ky1, kx0, kx1, tail);
                        if (scatter == null) acc.intoArray(oa, dst + full, tail);
                        else scatterSome(acc, lanes, c - full, oa, dst + full * ocs, ocs);
                    }
                }
            }
        });
    }

    /** One vector of channels of one output pixel: {@code src} addresses tap (0, 0) at channel c0. */
    private FloatVector pixel(float[] xa, int src, int xrs, int xps, int c0, int ky0, int ky1, int kx0, int kx1) {
        FloatVector acc = FloatVector.fromArray(S, biasPad, c0);
        for (int ky = ky0; ky < ky1; ky++) {
            int row = src + ky * xrs, wRow = ky * kw * cPad + c0;
            for (int kx = kx0; kx < kx1; kx++) {
                FloatVector v = FloatVector.fromArray(S, xa, row + kx * xps);
                if (reluIn) v = Simd.relu(v);
                acc = v.fma(FloatVector.fromArray(S, wTap, wRow + kx * cPad), acc);
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
                acc = v.fma(FloatVector.fromArray(S, wTap, wRow + kx * cPad), acc);
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

    /** Columns of one phase plane: whole vectors of outputs, plus the taps' reach past them. */
    private int phaseCols(int ow) { return (ow + L - 1) / L * L + (kw - 1) / sw; }

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

    /** One output row of channel {@code ch}, vectors along it; the last partial vector masked. */
    private void vectorRow(float[] s, int base, int hp, int wph, int ch, int oy, int ow, float[] oa, int rowOut, int ops, int[] scatter, float[] lanes) {
        int wo = ch * kh * kw;
        float b = bias[ch];
        for (int ox = 0; ox < ow; ox += L) {
            FloatVector acc = FloatVector.broadcast(S, b);
            for (int ky = 0; ky < kh; ky++) {
                int py = oy * sh + ky;
                for (int kx = 0; kx < kw; kx++) {
                    int at = base + ((kx % sw) * hp + py) * wph + ox + kx / sw;
                    acc = FloatVector.fromArray(S, s, at).fma(FloatVector.broadcast(S, wPlane[wo + ky * kw + kx]), acc);
                }
            }
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
