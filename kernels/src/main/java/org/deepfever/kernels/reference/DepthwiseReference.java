package org.deepfever.kernels.reference;

import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.DepthwiseConv2d;

/**
 * The reference depthwise convolution: for every output element, the sum over the kernel window of
 * weight times the (ReLU'd, if asked) input, taps outside the input skipped (zero padding), in
 * double, plus the bias, then the activation. Tensors addressed through their full strides.
 */
final class DepthwiseReference {
    private DepthwiseReference() {}

    static Kernel of(DepthwiseConv2d d) {
        final float[] w = d.weight().toFloatArray();
        final float[] b = d.bias() == null ? null : d.bias().toFloatArray();
        final int kh = d.kernelH(), kw = d.kernelW(), sh = d.strideH(), sw = d.strideW(), pt = d.padTop(), pl = d.padLeft();
        final boolean reluIn = d.reluInput();
        final Activation act = d.activation();
        return (in, out, ctx) -> {
            Tensor x = in[0];
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), oh = out.dim(2), ow = out.dim(3);
            float[] xa = x.array(), oa = out.array();
            for (int img = 0; img < n; img++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            double acc = b == null ? 0.0 : b[ch];
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = oy * sh - pt + ky;
                                if (iy < 0 || iy >= h) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = ox * sw - pl + kx;
                                    if (ix < 0 || ix >= wd) continue;
                                    float v = xa[Strided.index(x, new int[] {img, ch, iy, ix})];
                                    if (reluIn && v < 0f) v = 0f;
                                    acc += (double) w[(ch * kh + ky) * kw + kx] * v;
                                }
                            }
                            oa[Strided.index(out, new int[] {img, ch, oy, ox})] = act.apply((float) acc);
                        }
                    }
                }
            }
        };
    }
}
