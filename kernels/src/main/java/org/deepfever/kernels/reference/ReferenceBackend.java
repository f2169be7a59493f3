package org.deepfever.kernels.reference;

import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.*;

/**
 * Plain scalar, obviously-correct kernels for every op of the graph. Accumulations are done in
 * double so that this backend can serve as the oracle for the fast ones. Every kernel addresses its
 * tensors through their full strides, so any heap view (including channel slices of a concat buffer
 * with a larger batch stride) is read and written correctly.
 */
public final class ReferenceBackend implements Backend {
    @Override public String name() { return "reference"; }
    @Override public int priority() { return 0; }
    @Override public boolean supports(Op op) { return true; }

    @Override
    public Kernel prepare(Op op) {
        return switch (op) {
            case Conv2d c -> conv(c);
            case DepthwiseConv2d d -> DepthwiseReference.of(d);
            case BatchNorm b -> batchNorm(b);
            case Relu r -> unary(x -> x < 0f ? 0f : x); // NaN stays NaN, as in PyTorch
            case Sigmoid s -> unary(x -> (float) (1.0 / (1.0 + Math.exp(-(double) x))));
            case Clip c -> unary(x -> Math.min(Math.max(x, c.min()), c.max()));
            case Identity i -> unary(x -> x);
            case ResidualAdd r -> residualAdd(r);
            case MaxPool2d m -> maxPool(m);
            case GlobalAvgPool g -> globalAvgPool();
            case Concat c -> concat(c);
            case Binary b -> binary(b);
            case Gemm g -> gemm(g);
            case Softmax s -> softmax(s);
            case L2Normalize l -> l2Normalize(l);
            case ReduceL2 r -> reduceL2(r);
            case Flatten f -> copyFlat();
            case Reshape r -> copyFlat();
            case Transpose t -> transpose(t);
        };
    }

    // ---------------------------------------------------------------- convolution

    private static Kernel conv(Conv2d c) {
        final float[] w = c.effectiveWeights();
        final float[] b = c.bias() == null ? null : c.bias().toFloatArray();
        final int cout = c.outChannels(), cinG = c.weight().dim(1), kh = c.kernelH(), kw = c.kernelW();
        final int coutG = cout / c.groups();
        final int sh = c.strideH(), sw = c.strideW(), pt = c.padTop(), pl = c.padLeft(), dh = c.dilationH(), dw = c.dilationW();
        final Activation act = c.activation();
        final boolean residual = c.residual();
        return (in, out, ctx) -> {
            Tensor x = in[0];
            Tensor r = residual ? in[1] : null;
            int n = x.dim(0), h = x.dim(2), wd = x.dim(3), oh = out.dim(2), ow = out.dim(3);
            float[] xa = x.array(), oa = out.array();
            final long xn = x.stride(0), xc = x.stride(1), xh = x.stride(2), xw = x.stride(3), xo = x.offset();
            ctx.pool().parallelFor(n * cout, task -> {
                int img = task / cout, co = task % cout, g = co / coutG;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = b == null ? 0.0 : b[co];
                        for (int ci = 0; ci < cinG; ci++) {
                            int cIn = g * cinG + ci;
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = oy * sh - pt + ky * dh;
                                if (iy < 0 || iy >= h) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = ox * sw - pl + kx * dw;
                                    if (ix < 0 || ix >= wd) continue;
                                    acc += (double) w[((co * cinG + ci) * kh + ky) * kw + kx]
                                            * xa[(int) (xo + img * xn + cIn * xc + iy * xh + ix * xw)];
                                }
                            }
                        }
                        if (r != null) acc += r.array()[Strided.index(r, new int[] {img, co, oy, ox})];
                        oa[Strided.index(out, new int[] {img, co, oy, ox})] = act.apply((float) acc);
                    }
                }
            });
        };
    }

    // ---------------------------------------------------------------- element-wise

    private interface FloatOp { float apply(float x); }

    private static Kernel unary(FloatOp f) {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            float[] xa = x.array(), oa = out.array();
            long size = out.size();
            for (long i = 0; i < size; i++) oa[Strided.index(out, i)] = f.apply(xa[Strided.index(x, i)]);
        };
    }

    private static Kernel batchNorm(BatchNorm bn) {
        final int c = bn.channels();
        final double[] scale = new double[c], shift = new double[c];
        for (int i = 0; i < c; i++) {
            double s = bn.gamma().getFlat(i) / Math.sqrt(bn.var().getFlat(i) + (double) bn.eps());
            scale[i] = s;
            shift[i] = bn.beta().getFlat(i) - bn.mean().getFlat(i) * s;
        }
        return (in, out, ctx) -> {
            Tensor x = in[0];
            float[] xa = x.array(), oa = out.array();
            int[] dims = x.shape().dims();
            int[] idx = new int[dims.length];
            long size = x.size();
            for (long i = 0; i < size; i++) {
                Strided.unflatten(dims, i, idx);
                int ch = idx[1];
                oa[Strided.index(out, idx)] = (float) (xa[Strided.index(x, idx)] * scale[ch] + shift[ch]);
            }
        };
    }

    private static Kernel residualAdd(ResidualAdd r) {
        final float scale = r.scale();
        final Activation act = r.activation();
        return (in, out, ctx) -> {
            Tensor x = in[0], y = in[1];
            float[] xa = x.array(), ya = y.array(), oa = out.array();
            long size = out.size();
            for (long i = 0; i < size; i++) {
                double v = xa[Strided.index(x, i)] + (double) scale * ya[Strided.index(y, i)];
                oa[Strided.index(out, i)] = act.apply((float) v);
            }
        };
    }

    private static Kernel binary(Binary op) {
        final Binary.Fn fn = op.fn();
        return (in, out, ctx) -> {
            Tensor a = in[0], b = in[1];
            float[] aa = a.array(), ba = b.array(), oa = out.array();
            int[] dims = out.shape().dims();
            int rank = dims.length;
            int[] oi = new int[rank], ai = new int[a.rank()], bi = new int[b.rank()];
            long size = out.size();
            for (long i = 0; i < size; i++) {
                Strided.unflatten(dims, i, oi);
                broadcastIndex(oi, a, ai);
                broadcastIndex(oi, b, bi);
                oa[Strided.index(out, oi)] = fn.apply(aa[Strided.index(a, ai)], ba[Strided.index(b, bi)]);
            }
        };
    }

    /** Index into a (right-aligned, possibly smaller-rank) operand of a broadcast: size-1 dims read index 0. */
    private static void broadcastIndex(int[] outIdx, Tensor t, int[] idx) {
        int shift = outIdx.length - t.rank();
        for (int d = 0; d < t.rank(); d++) idx[d] = t.dim(d) == 1 ? 0 : outIdx[d + shift];
    }

    // ---------------------------------------------------------------- pooling and reductions

    private static Kernel maxPool(MaxPool2d m) {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = out.dim(2), ow = out.dim(3);
            float[] xa = x.array(), oa = out.array();
            for (int img = 0; img < n; img++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            float best = Float.NEGATIVE_INFINITY;
                            for (int ky = 0; ky < m.kernelH(); ky++) {
                                int iy = oy * m.strideH() - m.padTop() + ky;
                                if (iy < 0 || iy >= h) continue;
                                for (int kx = 0; kx < m.kernelW(); kx++) {
                                    int ix = ox * m.strideW() - m.padLeft() + kx;
                                    if (ix < 0 || ix >= w) continue;
                                    best = Math.max(best, xa[Strided.index(x, new int[] {img, ch, iy, ix})]);
                                }
                            }
                            oa[Strided.index(out, new int[] {img, ch, oy, ox})] = best;
                        }
                    }
                }
            }
        };
    }

    private static Kernel globalAvgPool() {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
            float[] xa = x.array(), oa = out.array();
            for (int img = 0; img < n; img++) {
                for (int ch = 0; ch < c; ch++) {
                    double sum = 0;
                    for (int y = 0; y < h; y++) {
                        for (int xx = 0; xx < w; xx++) sum += xa[Strided.index(x, new int[] {img, ch, y, xx})];
                    }
                    int[] oi = out.rank() == 2 ? new int[] {img, ch} : new int[] {img, ch, 0, 0};
                    oa[Strided.index(out, oi)] = (float) (sum / ((double) h * w));
                }
            }
        };
    }

    private static Kernel reduceL2(ReduceL2 op) {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int rank = x.rank();
            int[] dims = x.shape().dims();
            double[] acc = new double[Math.toIntExact(out.size())];
            int[] xi = new int[rank];
            long[] outStrides = out.shape().contiguousStrides();
            long size = x.size();
            float[] xa = x.array(), oa = out.array();
            for (long i = 0; i < size; i++) {
                Strided.unflatten(dims, i, xi);
                long flatOut = 0;
                int od = 0;
                for (int d = 0; d < rank; d++) {
                    if (!op.reduces(d, rank)) flatOut += xi[d] * outStrides[od++];
                    else if (op.keepDims()) od++;
                }
                double v = xa[Strided.index(x, xi)];
                acc[(int) flatOut] += v * v;
            }
            for (int i = 0; i < acc.length; i++) oa[Strided.index(out, i)] = (float) Math.sqrt(acc[i]);
        };
    }

    /** Calls {@code body(idx)} for every position with idx[axis] == 0, i.e. once per line along the axis. */
    private interface LineBody { void run(int[] idx); }

    private static void forEachLine(int[] dims, int axis, LineBody body) {
        int[] reduced = dims.clone();
        reduced[axis] = 1;
        long lines = 1;
        for (int d : reduced) lines *= d;
        int[] idx = new int[dims.length];
        for (long l = 0; l < lines; l++) {
            Strided.unflatten(reduced, l, idx);
            body.run(idx);
        }
    }

    private static Kernel softmax(Softmax s) {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int[] dims = x.shape().dims();
            int ax = Strided.normAxis(s.axis(), dims.length);
            int len = dims[ax];
            float[] xa = x.array(), oa = out.array();
            forEachLine(dims, ax, idx -> {
                double max = Double.NEGATIVE_INFINITY;
                for (int a = 0; a < len; a++) {
                    idx[ax] = a;
                    max = Math.max(max, xa[Strided.index(x, idx)]);
                }
                double sum = 0;
                for (int a = 0; a < len; a++) {
                    idx[ax] = a;
                    sum += Math.exp(xa[Strided.index(x, idx)] - max);
                }
                for (int a = 0; a < len; a++) {
                    idx[ax] = a;
                    oa[Strided.index(out, idx)] = (float) (Math.exp(xa[Strided.index(x, idx)] - max) / sum);
                }
            });
        };
    }

    private static Kernel l2Normalize(L2Normalize l) {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int[] dims = x.shape().dims();
            int ax = Strided.normAxis(l.axis(), dims.length);
            int len = dims[ax];
            float[] xa = x.array(), oa = out.array();
            forEachLine(dims, ax, idx -> {
                double ss = 0;
                for (int a = 0; a < len; a++) {
                    idx[ax] = a;
                    double v = xa[Strided.index(x, idx)];
                    ss += v * v;
                }
                double denom = Math.max(Math.sqrt(ss), l.eps());
                for (int a = 0; a < len; a++) {
                    idx[ax] = a;
                    oa[Strided.index(out, idx)] = (float) (xa[Strided.index(x, idx)] / denom);
                }
            });
        };
    }

    // ---------------------------------------------------------------- dense

    private static Kernel gemm(Gemm g) {
        final float[] w = g.weight().toFloatArray();
        final float[] b = g.bias() == null ? null : g.bias().toFloatArray();
        final int m = g.outFeatures(), k = g.inFeatures();
        return (in, out, ctx) -> {
            Tensor x = in[0];
            float[] xa = x.array(), oa = out.array();
            int n = x.dim(0);
            for (int r = 0; r < n; r++) {
                for (int o = 0; o < m; o++) {
                    double acc = b == null ? 0.0 : b[o];
                    for (int i = 0; i < k; i++) acc += (double) xa[Strided.index(x, new int[] {r, i})] * w[o * k + i];
                    oa[Strided.index(out, new int[] {r, o})] = (float) acc;
                }
            }
        };
    }

    // ---------------------------------------------------------------- data movement

    private static Kernel copyFlat() {
        return (in, out, ctx) -> {
            Tensor x = in[0];
            float[] xa = x.array(), oa = out.array();
            long size = out.size();
            for (long i = 0; i < size; i++) oa[Strided.index(out, i)] = xa[Strided.index(x, i)];
        };
    }

    private static Kernel transpose(Transpose t) {
        final int[] perm = t.perm();
        return (in, out, ctx) -> {
            Tensor x = in[0];
            float[] xa = x.array(), oa = out.array();
            int[] odims = out.shape().dims();
            int[] oi = new int[odims.length], xi = new int[odims.length];
            long size = out.size();
            for (long i = 0; i < size; i++) {
                Strided.unflatten(odims, i, oi);
                for (int d = 0; d < perm.length; d++) xi[perm[d]] = oi[d];
                oa[Strided.index(out, oi)] = xa[Strided.index(x, xi)];
            }
        };
    }

    private static Kernel concat(Concat c) {
        return (in, out, ctx) -> {
            int ax = c.normalizedAxis(out.rank());
            float[] oa = out.array();
            int base = 0;
            for (Tensor x : in) {
                float[] xa = x.array();
                int[] dims = x.shape().dims();
                int[] idx = new int[dims.length];
                long size = x.size();
                for (long i = 0; i < size; i++) {
                    Strided.unflatten(dims, i, idx);
                    float v = xa[Strided.index(x, idx)];
                    idx[ax] += base;
                    oa[Strided.index(out, idx)] = v;
                }
                base += x.dim(ax);
            }
        };
    }
}
