package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.*;

/**
 * The Vector API kernels other than convolution. Every loop has the same shape: a vector body up to
 * {@link Simd#loopBound}, then a scalar tail (which does all the work on the scalar path).
 *
 * <p>Activation tensors are addressed as {@code blocks} (the items of the first dimension, at the
 * tensor's batch stride) of {@code inner} contiguous floats, so channel slices of concat buffers
 * are read and written in place.
 */
final class SimdKernels {
    private SimdKernels() {}

    static final VectorSpecies<Float> S = Simd.SPECIES;
    static final int L = Simd.LANES;
    /** Below this many elements an element-wise op runs on the calling thread only. */
    static final int PARALLEL_MIN = 1 << 15;

    // ------------------------------------------------------------------ addressing helpers

    static int blocks(Tensor t) { return t.rank() >= 2 ? t.dim(0) : 1; }

    static int inner(Tensor t) { return Math.toIntExact(t.size() / Math.max(1, blocks(t))); }

    static int blockOffset(Tensor t, int b) {
        return t.rank() >= 2 ? Math.toIntExact(t.offset() + (long) b * t.batchStride()) : t.arrayOffset();
    }

    interface RangeBody { void run(int block, int from, int to); }

    /** Runs {@code body} over [0, inner) of every block, in vector-aligned chunks spread over the pool when large. */
    static void forRanges(ExecContext ctx, int blocks, int inner, RangeBody body) {
        long total = (long) blocks * inner;
        int threads = ctx.pool().threads();
        if (threads == 1 || total < PARALLEL_MIN) {
            for (int b = 0; b < blocks; b++) body.run(b, 0, inner);
            return;
        }
        int per = Math.max(1, Math.ceilDiv(threads * 2, blocks));
        per = Math.min(per, Math.max(1, inner / (4 * L)));
        final int chunks = per;
        ctx.pool().parallelFor(blocks * chunks, t -> {
            int b = t / chunks, c = t % chunks;
            int from = align((long) inner * c / chunks, inner), to = align((long) inner * (c + 1) / chunks, inner);
            if (from < to) body.run(b, from, to);
        });
    }

    private static int align(long i, int inner) { return i >= inner ? inner : (int) (i / L * L); }

    // ------------------------------------------------------------------ element-wise

    /** Whether a 4-D element-wise or per-channel kernel takes channels-last tensors ({@link ChannelsLastOps}). */
    private static boolean channelsLastOk(Shape out) { return !Simd.SCALAR && out.rank() == 4; }

    static Kernel relu() {
        return new Kernel() {
            @Override
            public void run(Tensor[] in, Tensor out, ExecContext ctx) {
                Tensor x = in[0];
                if (x.isChannelsLast() || out.isChannelsLast()) {
                    ChannelsLastOps.relu(x, out, ctx);
                    return;
                }
                float[] xa = x.array(), oa = out.array();
                forRanges(ctx, blocks(out), inner(out), (b, from, to) -> {
                    int xo = blockOffset(x, b), oo = blockOffset(out, b);
                    int i = from;
                    for (int end = from + Simd.loopBound(to - from); i < end; i += L) {
                        Simd.relu(FloatVector.fromArray(S, xa, xo + i)).intoArray(oa, oo + i);
                    }
                    for (; i < to; i++) oa[oo + i] = Math.max(xa[xo + i], 0f);
                });
            }

            @Override public boolean acceptsChannelsLast(int input, Shape[] inputs, Shape output) { return channelsLastOk(output); }

            @Override public boolean writesChannelsLast(Shape[] inputs, Shape output) { return channelsLastOk(output); }
        };
    }

    static Kernel clip(Clip c) {
        final float lo = c.min(), hi = c.max();
        return (in, out, ctx) -> {
            Tensor x = in[0];
            float[] xa = x.array(), oa = out.array();
            forRanges(ctx, blocks(out), inner(out), (b, from, to) -> {
                int xo = blockOffset(x, b), oo = blockOffset(out, b);
                int i = from;
                for (int end = from + Simd.loopBound(to - from); i < end; i += L) {
                    FloatVector.fromArray(S, xa, xo + i).max(lo).min(hi).intoArray(oa, oo + i);
                }
                for (; i < to; i++) oa[oo + i] = Math.min(Math.max(xa[xo + i], lo), hi);
            });
        };
    }

    static Kernel residualAdd(ResidualAdd r) {
        final float scale = r.scale();
        final boolean relu = r.activation() == Activation.RELU;
        return (in, out, ctx) -> {
            Tensor x = in[0], y = in[1];
            float[] xa = x.array(), ya = y.array(), oa = out.array();
            forRanges(ctx, blocks(out), inner(out), (b, from, to) -> {
                int xo = blockOffset(x, b), yo = blockOffset(y, b), oo = blockOffset(out, b);
                int i = from;
                for (int end = from + Simd.loopBound(to - from); i < end; i += L) {
                    FloatVector v = FloatVector.fromArray(S, ya, yo + i).fma(FloatVector.broadcast(S, scale), FloatVector.fromArray(S, xa, xo + i));
                    if (relu) v = Simd.relu(v);
                    v.intoArray(oa, oo + i);
                }
                for (; i < to; i++) {
                    float v = Math.fma(ya[yo + i], scale, xa[xo + i]);
                    oa[oo + i] = relu ? Math.max(v, 0f) : v;
                }
            });
        };
    }

    static Kernel batchNorm(BatchNorm bn) {
        final int c = bn.channels();
        final float[] scale = new float[c], shift = new float[c];
        for (int i = 0; i < c; i++) {
            scale[i] = bn.scale(i);
            shift[i] = bn.shift(i);
        }
        return new Kernel() {
            @Override
            public void run(Tensor[] in, Tensor out, ExecContext ctx) {
                Tensor x = in[0];
                if (x.isChannelsLast() || out.isChannelsLast()) {
                    ChannelsLastOps.affine(x, out, scale, shift, ctx);
                    return;
                }
                nchw(x, out, ctx);
            }

            @Override public boolean acceptsChannelsLast(int input, Shape[] inputs, Shape output) { return channelsLastOk(output); }

            @Override public boolean writesChannelsLast(Shape[] inputs, Shape output) { return channelsLastOk(output); }

            private void nchw(Tensor x, Tensor out, ExecContext ctx) {
                float[] xa = x.array(), oa = out.array();
                int inner = inner(out);
                int hw = inner / c;
                forRanges(ctx, blocks(out), inner, (b, from, to) -> {
                    int xo = blockOffset(x, b), oo = blockOffset(out, b);
                    if (hw == 1) { // [N, C]: vectors across channels
                        int i = from;
                        for (int end = from + Simd.loopBound(to - from); i < end; i += L) {
                            FloatVector.fromArray(S, xa, xo + i).fma(FloatVector.fromArray(S, scale, i), FloatVector.fromArray(S, shift, i))
                                    .intoArray(oa, oo + i);
                        }
                        for (; i < to; i++) oa[oo + i] = Math.fma(xa[xo + i], scale[i], shift[i]);
                        return;
                    }
                    for (int ch = from / hw; ch * hw < to; ch++) {
                        int s0 = Math.max(from, ch * hw), s1 = Math.min(to, (ch + 1) * hw);
                        float sc = scale[ch], sh = shift[ch];
                        int i = s0;
                        for (int end = s0 + Simd.loopBound(s1 - s0); i < end; i += L) {
                            FloatVector.fromArray(S, xa, xo + i).fma(sc, sh).intoArray(oa, oo + i);
                        }
                        for (; i < s1; i++) oa[oo + i] = Math.fma(xa[xo + i], sc, sh);
                    }
                });
            }
        };
    }

    /**
     * Binary ops: the same-shape case and a scalar (single-element) operand on either side are
     * vectorised; any other broadcast runs {@code general} (the reference kernel).
     */
    static Kernel binary(Binary op, Kernel general) {
        final Binary.Fn fn = op.fn();
        return (in, out, ctx) -> {
            Tensor a = in[0], b = in[1];
            boolean same = a.shape().equals(out.shape()) && b.shape().equals(out.shape());
            boolean bScalar = b.size() == 1 && a.shape().equals(out.shape());
            boolean aScalar = a.size() == 1 && b.shape().equals(out.shape());
            if (!same && !bScalar && !aScalar) {
                general.run(in, out, ctx);
                return;
            }
            float[] aa = a.array(), ba = b.array(), oa = out.array();
            forRanges(ctx, blocks(out), inner(out), (blk, from, to) -> {
                int oo = blockOffset(out, blk);
                int i = from;
                if (same) {
                    int ao = blockOffset(a, blk), bo = blockOffset(b, blk);
                    for (int end = from + Simd.loopBound(to - from); i < end; i += L) {
                        apply(fn, FloatVector.fromArray(S, aa, ao + i), FloatVector.fromArray(S, ba, bo + i)).intoArray(oa, oo + i);
                    }
                    for (; i < to; i++) oa[oo + i] = fn.apply(aa[ao + i], ba[bo + i]);
                } else if (bScalar) {
                    int ao = blockOffset(a, blk);
                    float s = ba[b.arrayOffset()];
                    FloatVector sv = FloatVector.broadcast(S, s);
                    for (int end = from + Simd.loopBound(to - from); i < end; i += L) {
                        apply(fn, FloatVector.fromArray(S, aa, ao + i), sv).intoArray(oa, oo + i);
                    }
                    for (; i < to; i++) oa[oo + i] = fn.apply(aa[ao + i], s);
                } else {
                    int bo = blockOffset(b, blk);
                    float s = aa[a.arrayOffset()];
                    FloatVector sv = FloatVector.broadcast(S, s);
                    for (int end = from + Simd.loopBound(to - from); i < end; i += L) {
                        apply(fn, sv, FloatVector.fromArray(S, ba, bo + i)).intoArray(oa, oo + i);
                    }
                    for (; i < to; i++) oa[oo + i] = fn.apply(s, ba[bo + i]);
                }
            });
        };
    }

    private static FloatVector apply(Binary.Fn fn, FloatVector a, FloatVector b) {
        return switch (fn) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
        };
    }

    // ------------------------------------------------------------------ pooling

    static Kernel globalAvgPool() {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
            float[] xa = x.array(), oa = out.array();
            float inv = 1f / hw;
            for (int img = 0; img < n; img++) {
                int xo = blockOffset(x, img), oo = blockOffset(out, img);
                for (int ch = 0; ch < c; ch++) oa[oo + ch] = sum(xa, xo + ch * hw, hw) * inv;
            }
        };
    }

    /** Sum of {@code len} floats: four vector accumulators, one reduce, scalar tail. */
    static float sum(float[] a, int off, int len) {
        int i = 0;
        float s = 0f;
        if (!Simd.SCALAR && len >= 4 * L) { // shorter: plain code (fast in C1 too, see gemm)
            FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
            for (int end = len / (4 * L) * (4 * L); i < end; i += 4 * L) {
                s0 = s0.add(FloatVector.fromArray(S, a, off + i));
                s1 = s1.add(FloatVector.fromArray(S, a, off + i + L));
                s2 = s2.add(FloatVector.fromArray(S, a, off + i + 2 * L));
                s3 = s3.add(FloatVector.fromArray(S, a, off + i + 3 * L));
            }
            for (int end = Simd.loopBound(len); i < end; i += L) s0 = s0.add(FloatVector.fromArray(S, a, off + i));
            s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        }
        for (; i < len; i++) s += a[off + i];
        return s;
    }

    /** Dot product of {@code len} floats: four FMA accumulators, one reduce, scalar tail. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        int i = 0;
        float s = 0f;
        if (!Simd.SCALAR && len >= 4 * L) { // shorter: plain code (fast in C1 too, see gemm)
            FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
            for (int end = len / (4 * L) * (4 * L); i < end; i += 4 * L) {
                s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
                s1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), s1);
                s2 = FloatVector.fromArray(S, a, aOff + i + 2 * L).fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), s2);
                s3 = FloatVector.fromArray(S, a, aOff + i + 3 * L).fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), s3);
            }
            for (int end = Simd.loopBound(len); i < end; i += L) {
                s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
            }
            s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        }
        for (; i < len; i++) s = Math.fma(a[aOff + i], b[bOff + i], s);
        return s;
    }

    // ------------------------------------------------------------------ concat

    /** Concat along axis 1: each input's per-item block copied to its channel offset. */
    static Kernel concat1() {
        return (in, out, ctx) -> {
            float[] oa = out.array();
            int n = out.dim(0);
            int perChannel = Math.toIntExact(out.size() / ((long) n * out.dim(1)));
            for (int img = 0; img < n; img++) {
                int oo = blockOffset(out, img);
                for (Tensor x : in) {
                    int len = inner(x);
                    System.arraycopy(x.array(), blockOffset(x, img), oa, oo, len);
                    oo += x.dim(1) * perChannel;
                }
            }
        };
    }

    // ------------------------------------------------------------------ dense

    /**
     * Dense layer {@code y = W x + b}, weights transposed at load to [in][out]: each input value
     * scales a contiguous row of weights into the outputs, a plain loop that C2 vectorizes (FMA
     * along the outputs, no reduction). Plain Java rather than the Vector API because the heads run
     * once per inference: for the first few hundred inferences they run as C1 code, where Vector API
     * calls are not intrinsified (each one allocates); DeepFEVER's 128 -> 32 head took 60 us that
     * way, against 8 once C2 had compiled it.
     */
    static Kernel gemm(Gemm g) {
        final float[] w = g.weight().toFloatArray();
        final float[] bias = g.bias() == null ? new float[g.outFeatures()] : g.bias().toFloatArray();
        final int m = g.outFeatures(), k = g.inFeatures();
        final float[] wt = new float[Math.multiplyExact(m, k)];
        for (int o = 0; o < m; o++) {
            for (int i = 0; i < k; i++) wt[i * m + o] = w[o * k + i];
        }
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int n = x.dim(0);
            float[] xa = x.array(), oa = out.array();
            long work = (long) n * m * k;
            int chunks = work < PARALLEL_MIN * 4L || ctx.pool().threads() == 1 ? 1 : Math.min(m, ctx.pool().threads() * 2);
            ctx.pool().parallelFor(n * chunks, t -> {
                int r = t / chunks, c = t % chunks;
                int xo = blockOffset(x, r), oo = blockOffset(out, r);
                int o0 = (int) ((long) m * c / chunks), o1 = (int) ((long) m * (c + 1) / chunks);
                dense(xa, xo, k, wt, m, o0, o1, bias, oa, oo);
            });
        };
    }

    /** {@code out[oo + o] = bias[o] + sum_i x[xo + i] * wt[i * m + o]} for o in [o0, o1). */
    static void dense(float[] x, int xo, int k, float[] wt, int m, int o0, int o1, float[] bias, float[] out, int oo) {
        System.arraycopy(bias, o0, out, oo + o0, o1 - o0);
        for (int i = 0; i < k; i++) {
            float xi = x[xo + i];
            for (int o = o0, wi = i * m + o0; o < o1; o++, wi++) out[oo + o] = Math.fma(xi, wt[wi], out[oo + o]);
        }
    }

    /** Lines along one axis of an inner-contiguous tensor: where each starts, how far apart its elements are. */
    private record Lines(int count, int len, int step, int inner) {}

    private static int lineStart(Tensor t, int axis, Lines l, int line) {
        // line -> (outer index o, inner index i)
        int o = line / l.inner(), i = line % l.inner();
        if (axis == 0) return t.arrayOffset() + i;
        int perItem = Math.toIntExact(t.size() / t.dim(0));
        int outerPerItem = perItem / (l.len() * l.inner());
        int item = o / outerPerItem, oi = o % outerPerItem;
        return blockOffset(t, item) + oi * l.len() * l.inner() + i;
    }

    private static Lines lines(Tensor t, int axis) {
        int len = t.dim(axis);
        long inner = 1;
        for (int d = axis + 1; d < t.rank(); d++) inner *= t.dim(d);
        int step = axis == 0 ? Math.toIntExact(t.rank() >= 2 ? t.batchStride() : 1) : (int) inner;
        if (axis == 0 && t.rank() < 2) step = Math.toIntExact(t.stride(0));
        int count = Math.toIntExact(t.size() / len);
        return new Lines(count, len, step, (int) inner);
    }

    static Kernel softmax(Softmax s) {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int ax = s.axis() < 0 ? s.axis() + x.rank() : s.axis();
            Lines lx = lines(x, ax), lo = lines(out, ax);
            float[] xa = x.array(), oa = out.array();
            for (int line = 0; line < lx.count(); line++) {
                int xs = lineStart(x, ax, lx, line), os = lineStart(out, ax, lo, line);
                if (lx.step() == 1 && lo.step() == 1) {
                    softmaxContiguous(xa, xs, oa, os, lx.len());
                } else {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int a = 0; a < lx.len(); a++) max = Math.max(max, xa[xs + a * lx.step()]);
                    float sum = 0f;
                    for (int a = 0; a < lx.len(); a++) {
                        float e = (float) Math.exp(xa[xs + a * lx.step()] - max);
                        oa[os + a * lo.step()] = e;
                        sum += e;
                    }
                    float inv = 1f / sum;
                    for (int a = 0; a < lx.len(); a++) oa[os + a * lo.step()] *= inv;
                }
            }
        };
    }

    private static void softmaxContiguous(float[] xa, int xs, float[] oa, int os, int len) {
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (!Simd.SCALAR && len >= L) {
            FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int end = Simd.loopBound(len); i < end; i += L) mv = mv.max(FloatVector.fromArray(S, xa, xs + i));
            max = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < len; i++) max = Math.max(max, xa[xs + i]);
        float sum = 0f;
        for (int j = 0; j < len; j++) {
            float e = (float) Math.exp(xa[xs + j] - max);
            oa[os + j] = e;
            sum += e;
        }
        scale(oa, os, len, 1f / sum);
    }

    private static void scale(float[] a, int off, int len, float f) {
        int i = 0;
        for (int end = Simd.loopBound(len); i < end; i += L) FloatVector.fromArray(S, a, off + i).mul(f).intoArray(a, off + i);
        for (; i < len; i++) a[off + i] *= f;
    }

    static Kernel l2Normalize(L2Normalize l) {
        final float eps = l.eps();
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int ax = l.axis() < 0 ? l.axis() + x.rank() : l.axis();
            Lines lx = lines(x, ax), lo = lines(out, ax);
            float[] xa = x.array(), oa = out.array();
            for (int line = 0; line < lx.count(); line++) {
                int xs = lineStart(x, ax, lx, line), os = lineStart(out, ax, lo, line);
                if (lx.step() == 1 && lo.step() == 1) {
                    float norm = (float) Math.sqrt(dot(xa, xs, xa, xs, lx.len()));
                    float inv = 1f / Math.max(norm, eps);
                    int i = 0;
                    for (int end = lx.len() >= 4 * L ? Simd.loopBound(lx.len()) : 0; i < end; i += L) {
                        FloatVector.fromArray(S, xa, xs + i).mul(inv).intoArray(oa, os + i);
                    }
                    for (; i < lx.len(); i++) oa[os + i] = xa[xs + i] * inv;
                } else {
                    double ss = 0;
                    for (int a = 0; a < lx.len(); a++) {
                        float v = xa[xs + a * lx.step()];
                        ss += v * v;
                    }
                    float inv = 1f / Math.max((float) Math.sqrt(ss), eps);
                    for (int a = 0; a < lx.len(); a++) oa[os + a * lo.step()] = xa[xs + a * lx.step()] * inv;
                }
            }
        };
    }
}
