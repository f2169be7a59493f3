package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.MaxPool2d;

/**
 * Max pooling, one output row at a time: the vertical max of the window's valid input rows goes
 * into a row buffer padded with -infinity (so padding never wins), then the horizontal max over
 * kw for every start position (vectors, unaligned loads), then the outputs are picked at the
 * stride. No scalar max in the loops: Java's NaN-correct Math.max on floats compiles to
 * data-dependent branches that mispredict on real data. A channels-last input goes to
 * {@link MaxPoolChannelsLast}; an NCHW input may be written to a channels-last output (each row
 * of outputs then goes out at the output's pixel stride).
 */
final class MaxPools {
    private MaxPools() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;

    /** Gather indexes 0, L, 2L, ...: a column of an L x L block. */
    private static final int[] COLUMN = java.util.stream.IntStream.range(0, L).map(i -> i * L).toArray();

    /** The kernel for {@code m}: NCHW or channels-last input, either layout out (see the class comment). */
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
                        int xo = SimdKernels.blockOffset(x, img) + ch * h * w, oo = SimdKernels.blockOffset(out, img) + ch * ocs;
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
                        int xo = SimdKernels.blockOffset(x, img) + ch0 * h * w, oo = SimdKernels.blockOffset(out, img) + ch0;
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
                        int xo = SimdKernels.blockOffset(x, img) + ch * h * w, oo = SimdKernels.blockOffset(out, img) + ch * oh * ow;
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

}
