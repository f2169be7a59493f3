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

    /**
     * Max pooling, one output row at a time: the vertical max of the window's valid input rows goes
     * into a row buffer padded with -infinity (so padding never wins), then the horizontal max over
     * kw for every start position (vectors, unaligned loads), then the outputs are picked at the
     * stride. No scalar max in the loops: Java's NaN-correct Math.max on floats compiles to
     * data-dependent branches that mispredict on real data. A channels-last input goes to
     * {@link MaxPoolChannelsLast}; an NCHW input may be written to a channels-last output (each row
     * of outputs then goes out at the output's pixel stride).
     */
    /** Gather indexes 0, L, 2L, ...: a column of an L x L block. */
    private static final int[] COLUMN = java.util.stream.IntStream.range(0, L).map(i -> i * L).toArray();

    static Kernel maxPool(MaxPool2d m) {
        return new Kernel() {
            /** Padded row: left pad, the row, right pad / ceil overhang, two vectors of slack. */
            private int rowFloats(int w, int ow) {
                return Math.max(m.padLeft() + w + m.padRight(), (ow - 1) * m.strideW() + m.kernelW()) + 2 * L;
            }

            /** Horizontal maxima: one per window start, rounded up to whole vectors. */
            private int hFloats(int ow) { return ((ow - 1) * m.strideW() + 1 + L - 1) / L * L; }

            private int tasks(int planes, long outputs, int threads) {
                return threads == 1 || outputs < 4096 ? 1 : Math.min(planes, threads * 2);
            }

            @Override
            public long scratchFloats(Shape[] in, Shape out, int threads) {
                int planes = out.dim(0) * out.dim(1);
                long nchw = (long) tasks(planes, out.size(), threads) * (rowFloats(in[0].dim(3), out.dim(3)) + hFloats(out.dim(3)));
                // channels-last output of an NCHW input: L rows of L outputs per task ({@link #poolInRegistersToChannelsLast})
                long toCl = (long) Math.min(out.dim(0) * ((out.dim(1) + L - 1) / L), Math.max(threads, 1)) * L * L;
                return Math.max(Math.max(nchw, toCl), MaxPoolChannelsLast.scratchFloats(out, threads));
            }

            @Override public boolean acceptsChannelsLast(int input, Shape[] in, Shape out) { return !Simd.SCALAR; }

            @Override public boolean writesChannelsLast(Shape[] in, Shape out) { return !Simd.SCALAR; }

            @Override
            public void run(Tensor[] in, Tensor out, ExecContext ctx) {
                Tensor x = in[0];
                if (x.isChannelsLast()) {
                    int[] idx = blockIndexes;
                    if (idx == null || idx.length != L + 1 || idx[L] != x.dim(1)) blockIndexes = idx = MaxPoolChannelsLast.blockIndexes(x.dim(1));
                    MaxPoolChannelsLast.run(m, x, out, idx, ctx);
                    return;
                }
                int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
                int planes = n * c;
                // output pixel and channel strides: NCHW, or a channels-last output
                int ops = out.isChannelsLast() ? Math.toIntExact(out.pixelStride()) : 1, ocs = ops == 1 ? oh * ow : 1;
                if (rowsInRegisters(h, w, oh, ow)) {
                    if (ops == 1) poolInRegisters(x, out, ctx);
                    else poolInRegistersToChannelsLast(x, out, ops, ctx);
                    return;
                }
                int rowFloats = rowFloats(w, ow), hFloats = hFloats(ow), per = rowFloats + hFloats;
                int tasks = tasks(planes, out.size(), ctx.pool().threads());
                float[] xa = x.array(), oa = out.array(), scratch = ctx.scratch();
                ctx.pool().parallelFor(tasks, t -> {
                    int rb = t * per, hb = rb + rowFloats;
                    java.util.Arrays.fill(scratch, rb, rb + rowFloats, Float.NEGATIVE_INFINITY);
                    int p0 = (int) ((long) planes * t / tasks), p1 = (int) ((long) planes * (t + 1) / tasks);
                    for (int pl = p0; pl < p1; pl++) {
                        int img = pl / c, ch = pl % c;
                        int xo = blockOffset(x, img) + ch * h * w, oo = blockOffset(out, img) + ch * ocs;
                        for (int oy = 0; oy < oh; oy++) {
                            verticalMax(xa, xo, h, w, oy, scratch, rb + m.padLeft());
                            horizontalMax(scratch, rb, hb, ow);
                            pick(scratch, hb, oa, oo + oy * ow * ops, ow, ops);
                        }
                    }
                });
            }

            /**
             * Narrow planes (a row fits one vector: DeepFEVER's 15x15 and 7x7 pools) without padding
             * and with every window inside the input: each output row is computed in registers
             * (vertical max of kh masked row loads, horizontal max by lane rotations, the strided
             * outputs picked by one permute, a masked store). The row-buffer path below spends most of
             * its time on per-row overhead there (896 planes of 7x7 at batch 1: 82 us that way, 54 us
             * in registers; ONNX Runtime, channel-blocked: 9 us).
             */
            /** rotations[kx]: lane i takes lane i + kx (lanes past w hold junk no picked output reads). */
            @SuppressWarnings("unchecked")
            private final VectorShuffle<Float>[] rotations = Simd.SCALAR ? null : new VectorShuffle[m.kernelW()];
            /** Lane i takes lane i * strideW: the outputs of a row of window maxima. */
            private final VectorShuffle<Float> stridePick = Simd.SCALAR ? null
                    : VectorShuffle.fromOp(S, i -> Math.min(i * m.strideW(), L - 1));

            {
                for (int kx = 1; rotations != null && kx < rotations.length; kx++) {
                    int shift = kx;
                    rotations[kx] = VectorShuffle.fromOp(S, i -> (i + shift) % L);
                }
            }

            /** Gather indexes of a channels-last input's NCHW output (see MaxPoolChannelsLast), made on first use. */
            private volatile int[] blockIndexes;

            /**
             * {@link #poolInRegisters} for a channels-last output: L channels at a time, each channel's
             * row of outputs stored in a row of an L x L scratch block, then each output pixel's L
             * channels gathered from that block's column and stored as one vector.
             */
            private void poolInRegistersToChannelsLast(Tensor x, Tensor out, int ops, ExecContext ctx) {
                int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
                int kh = m.kernelH(), kw = m.kernelW(), sh = m.strideH();
                var inMask = S.indexInRange(0, w);
                VectorShuffle<Float>[] rotate = rotations;
                VectorShuffle<Float> strided = stridePick;
                int groups = (c + L - 1) / L, units = n * groups;
                int tasks = ctx.pool().threads() == 1 || (long) n * c * oh < 8192 ? 1 : Math.min(units, ctx.pool().threads());
                float[] xa = x.array(), oa = out.array(), scratch = ctx.scratch();
                ctx.pool().parallelFor(tasks, t -> {
                    int tb = t * L * L;
                    int u0 = (int) ((long) units * t / tasks), u1 = (int) ((long) units * (t + 1) / tasks);
                    for (int u = u0; u < u1; u++) {
                        int img = u / groups, ch0 = (u % groups) * L, gc = Math.min(L, c - ch0);
                        int xo = blockOffset(x, img) + ch0 * h * w, oo = blockOffset(out, img) + ch0;
                        for (int oy = 0; oy < oh; oy++) {
                            for (int j = 0; j < gc; j++) {
                                int row = xo + j * h * w + oy * sh * w;
                                FloatVector v = FloatVector.fromArray(S, xa, row, inMask);
                                for (int ky = 1; ky < kh; ky++) v = v.max(FloatVector.fromArray(S, xa, row + ky * w, inMask));
                                FloatVector hm = v;
                                for (int kx = 1; kx < kw; kx++) hm = hm.max(v.rearrange(rotate[kx]));
                                hm.rearrange(strided).intoArray(scratch, tb + j * L);
                            }
                            columnsOut(scratch, tb, gc, oa, oo + oy * ow * ops, ow, ops);
                        }
                    }
                });
            }

            /** Output pixel ox's {@code gc} channels = column ox of the L x L block (one gather when the block is full). */
            private static void columnsOut(float[] block, int tb, int gc, float[] oa, int o, int ow, int ops) {
                if (gc == L) {
                    for (int ox = 0; ox < ow; ox++, o += ops) FloatVector.fromArray(S, block, tb + ox, COLUMN, 0).intoArray(oa, o);
                } else {
                    for (int ox = 0; ox < ow; ox++, o += ops) {
                        for (int j = 0; j < gc; j++) oa[o + j] = block[tb + j * L + ox];
                    }
                }
            }

            private boolean rowsInRegisters(int h, int w, int oh, int ow) {
                return !Simd.SCALAR && w <= L && m.padTop() == 0 && m.padLeft() == 0 && m.padBottom() == 0
                        && m.padRight() == 0 && (oh - 1) * m.strideH() + m.kernelH() <= h
                        && (ow - 1) * m.strideW() + m.kernelW() <= w;
            }

            private void poolInRegisters(Tensor x, Tensor out, ExecContext ctx) {
                int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
                int kh = m.kernelH(), kw = m.kernelW(), sh = m.strideH();
                var inMask = S.indexInRange(0, w);
                var outMask = S.indexInRange(0, ow);
                VectorShuffle<Float>[] rotate = rotations;
                VectorShuffle<Float> strided = stridePick;
                int planes = n * c;
                // about 20 ns per output row: split only batches with many rows
                int tasks = ctx.pool().threads() == 1 || (long) planes * oh < 8192 ? 1 : Math.min(planes, ctx.pool().threads());
                float[] xa = x.array(), oa = out.array();
                ctx.pool().parallelFor(tasks, t -> {
                    int p0 = (int) ((long) planes * t / tasks), p1 = (int) ((long) planes * (t + 1) / tasks);
                    for (int pl = p0; pl < p1; pl++) {
                        int img = pl / c, ch = pl % c;
                        int xo = blockOffset(x, img) + ch * h * w, oo = blockOffset(out, img) + ch * oh * ow;
                        for (int oy = 0; oy < oh; oy++) {
                            int row = xo + oy * sh * w;
                            FloatVector v = FloatVector.fromArray(S, xa, row, inMask);
                            for (int ky = 1; ky < kh; ky++) v = v.max(FloatVector.fromArray(S, xa, row + ky * w, inMask));
                            FloatVector hm = v;
                            for (int kx = 1; kx < kw; kx++) hm = hm.max(v.rearrange(rotate[kx]));
                            hm.rearrange(strided).intoArray(oa, oo + oy * ow, outMask);
                        }
                    }
                });
            }

            /** row[dst .. dst+w) = max over the window's valid input rows (-inf if none). */
            private void verticalMax(float[] xa, int xo, int h, int w, int oy, float[] row, int dst) {
                int y0 = oy * m.strideH() - m.padTop();
                int ya = Math.max(0, y0), yb = Math.min(h, y0 + m.kernelH());
                int full = Simd.loopBound(w);
                int i = 0;
                for (; i < full; i += L) {
                    FloatVector v = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                    for (int y = ya; y < yb; y++) v = v.max(FloatVector.fromArray(S, xa, xo + y * w + i));
                    v.intoArray(row, dst + i);
                }
                if (i < w) {
                    if (Simd.SCALAR) {
                        for (; i < w; i++) {
                            float v = Float.NEGATIVE_INFINITY;
                            for (int y = ya; y < yb; y++) v = Math.max(v, xa[xo + y * w + i]);
                            row[dst + i] = v;
                        }
                    } else {
                        var mask = S.indexInRange(i, w);
                        FloatVector v = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                        for (int y = ya; y < yb; y++) v = v.max(FloatVector.fromArray(S, xa, xo + y * w + i, mask));
                        v.intoArray(row, dst + i, mask);
                    }
                }
            }

            /** hmax[j] = max(row[j .. j+kw)) for every window start j (whole vectors; the slack is -inf). */
            private void horizontalMax(float[] row, int rb, int hb, int ow) {
                int kw = m.kernelW();
                int hn = (ow - 1) * m.strideW() + 1;
                if (Simd.SCALAR) {
                    for (int j = 0; j < hn; j++) {
                        float v = row[rb + j];
                        for (int kx = 1; kx < kw; kx++) v = Math.max(v, row[rb + j + kx]);
                        row[hb + j] = v;
                    }
                    return;
                }
                for (int j = 0; j < hn; j += L) {
                    FloatVector v = FloatVector.fromArray(S, row, rb + j);
                    for (int kx = 1; kx < kw; kx++) v = v.max(FloatVector.fromArray(S, row, rb + j + kx));
                    v.intoArray(row, hb + j);
                }
            }

            /** out[ox * ops] = hmax[ox * strideW]. */
            private void pick(float[] hmax, int hb, float[] oa, int oo, int ow, int ops) {
                int sw = m.strideW();
                if (sw == 1 && ops == 1) {
                    System.arraycopy(hmax, hb, oa, oo, ow);
                } else {
                    for (int ox = 0; ox < ow; ox++) oa[oo + ox * ops] = hmax[hb + ox * sw];
                }
            }
        };
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
