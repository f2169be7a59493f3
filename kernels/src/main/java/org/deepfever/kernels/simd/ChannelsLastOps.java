package org.deepfever.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;

/**
 * ReLU and per-channel affine (inference BatchNorm) over 4-D tensors in any layout, for the
 * executor's channels-last buffers: when input and output both store each pixel's channels
 * contiguously, one vector loop along the channels per pixel (a channel slice of a concat buffer
 * too: its pixel stride is the buffer's channel count); when their layouts differ, a strided loop
 * over every element. Small maps are where this pays: DeepFEVER's dense block runs on 3x3 maps,
 * where an NCHW plane of 9 floats is all scalar tail.
 */
final class ChannelsLastOps {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;

    private ChannelsLastOps() {}

    /** Whether both tensors are 4-D channels-last (channel stride 1). */
    static boolean bothChannelsLast(Tensor x, Tensor out) {
        return x.rank() == 4 && x.isChannelsLast() && out.isChannelsLast();
    }

    /** {@code out = max(x, 0)} (NaN stays NaN); {@code x} and {@code out} of one shape, either layout. */
    static void relu(Tensor x, Tensor out, ExecContext ctx) { apply(x, out, null, null, ctx); }

    /** {@code out = x * scale[ch] + shift[ch]}; {@code x} and {@code out} of one shape, either layout. */
    static void affine(Tensor x, Tensor out, float[] scale, float[] shift, ExecContext ctx) { apply(x, out, scale, shift, ctx); }

    /** The affine when {@code scale} is given, else ReLU. */
    private static void apply(Tensor x, Tensor out, float[] scale, float[] shift, ExecContext ctx) {
        if (!bothChannelsLast(x, out)) {
            strided(x, out, scale, shift);
            return;
        }
        int c = out.dim(1);
        float[] xa = x.array(), oa = out.array();
        int xPix = Math.toIntExact(x.pixelStride()), oPix = Math.toIntExact(out.pixelStride());
        SimdKernels.forRanges(ctx, out.dim(0), out.dim(2) * out.dim(3), (b, from, to) -> {
            int xo = SimdKernels.blockOffset(x, b), oo = SimdKernels.blockOffset(out, b);
            for (int q = from; q < to; q++) {
                int xi = xo + q * xPix, oi = oo + q * oPix, ch = 0;
                for (int end = Simd.loopBound(c); ch < end; ch += L) {
                    FloatVector v = FloatVector.fromArray(S, xa, xi + ch);
                    v = scale == null ? Simd.relu(v) : v.fma(FloatVector.fromArray(S, scale, ch), FloatVector.fromArray(S, shift, ch));
                    v.intoArray(oa, oi + ch);
                }
                for (; ch < c; ch++) oa[oi + ch] = scale == null ? relu(xa[xi + ch]) : Math.fma(xa[xi + ch], scale[ch], shift[ch]);
            }
        });
    }

    private static float relu(float v) { return v < 0f ? 0f : v; }

    /** Mixed layouts: every element by its strides; the affine when {@code scale} is given, else ReLU. */
    private static void strided(Tensor x, Tensor out, float[] scale, float[] shift) {
        float[] xa = x.array(), oa = out.array();
        int n = out.dim(0), c = out.dim(1), h = out.dim(2), w = out.dim(3);
        long[] xs = x.strides(), os = out.strides();
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    long xi = x.offset() + b * xs[0] + ch * xs[1] + y * xs[2], oi = out.offset() + b * os[0] + ch * os[1] + y * os[2];
                    for (int i = 0; i < w; i++, xi += xs[3], oi += os[3]) {
                        float v = xa[(int) xi];
                        oa[(int) oi] = scale == null ? relu(v) : Math.fma(v, scale[ch], shift[ch]);
                    }
                }
            }
        }
    }
}
