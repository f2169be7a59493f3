package org.deepfever.kernels.simd.conv;

import org.deepfever.core.Tensor;

/**
 * Everything about one call's tensors that a task needs: arrays, offsets, batch strides, map sizes.
 * {@code oPix}, {@code rPix}: pixel stride of a channels-last output / residual, 0 for NCHW. A plan's
 * buffers come back call after call, so a kernel keeps its last geometry and reuses it while the same
 * tensor objects come back: a steady-state inference allocates none per conv.
 */
record CallGeometry(Tensor x, Tensor res, Tensor out, float[] xa, int xOff, int xBatch, int h, int w, int oh, int ow,
                    float[] oa, int oOff, int oBatch, float[] ra, int rOff, int rBatch, int oPix, int rPix) {

    /** The geometry of a call on input {@code x}, residual {@code res} (or null) and output {@code out}. */
    static CallGeometry of(Tensor x, Tensor res, Tensor out) {
        return new CallGeometry(x, res, out, x.array(), x.arrayOffset(), Math.toIntExact(x.batchStride()), x.dim(2), x.dim(3), out.dim(2), out.dim(3),
                out.array(), out.arrayOffset(), Math.toIntExact(out.batchStride()),
                res == null ? null : res.array(), res == null ? 0 : res.arrayOffset(), res == null ? 0 : Math.toIntExact(res.batchStride()),
                pixelStrideOf(out), res == null ? 0 : pixelStrideOf(res));
    }

    /** Pixel stride of a channels-last tensor, 0 for NCHW. */
    static int pixelStrideOf(Tensor t) {
        return t.isChannelsLast() ? Math.toIntExact(t.pixelStride()) : 0;
    }

    /** Output pixels per image. */
    int p() { return oh * ow; }

    /** Offset of (channel c, pixel q) within one output image. */
    int oIndex(int c, int q) { return oPix == 0 ? c * p() + q : q * oPix + c; }

    /** Offset of (channel c, pixel q) within one residual image. */
    int rIndex(int c, int q) { return rPix == 0 ? c * p() + q : q * rPix + c; }

    /** Whether the output is written over the residual: one buffer, the same addressing. */
    boolean residualInPlace() {
        return res != null && ra == oa && rOff == oOff && rPix == oPix && rBatch == oBatch;
    }

    /** The call's shapes and layouts, as the plan reads them. */
    ConvPlan.Call call(int threads) {
        return new ConvPlan.Call(x.dim(0), h, w, oh, ow, x.isChannelsLast(), out.isChannelsLast(), res != null,
                res != null && res.isChannelsLast(), residualInPlace(), threads);
    }
}
