package org.deepfever.kernels.simd.conv;

import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Conv2d;

/**
 * A conv's geometry as the kernels read it in their loops: channels, kernel, strides, padding,
 * dilation, K = cin * kh * kw, and the fused epilogue's parts.
 *
 * @param direct a 1x1, stride-1, unpadded conv: its input already is the GEMM's B matrix
 */
record ConvSpec(int cout, int cin, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw,
                int k, boolean relu, boolean residual, boolean direct) {

    /**
     * The geometry of {@code c}.
     *
     * @throws IllegalArgumentException for a grouped conv (the SIMD kernels handle groups == 1 only)
     */
    static ConvSpec of(Conv2d c) {
        if (c.groups() != 1) throw new IllegalArgumentException("SIMD conv kernels need groups == 1, got " + c.groups() + " in " + c);
        int kh = c.kernelH(), kw = c.kernelW();
        boolean direct = kh == 1 && kw == 1 && c.strideH() == 1 && c.strideW() == 1
                && c.padTop() == 0 && c.padLeft() == 0 && c.padBottom() == 0 && c.padRight() == 0;
        return new ConvSpec(c.outChannels(), c.inChannels(), kh, kw, c.strideH(), c.strideW(), c.padTop(), c.padLeft(),
                c.padBottom(), c.padRight(), c.dilationH(), c.dilationW(), c.inChannels() * kh * kw,
                c.activation() == Activation.RELU, c.residual(), direct);
    }

    /** Output channels in panels of {@code width} channels: the panel count. */
    int panels(int width) { return (cout + width - 1) / width; }

    /** Multiply-adds of a call: n * p * cout * K. */
    long macs(int n, int p) { return (long) n * p * cout * k; }

    /** E.g. "3x3/2 p(0,0,0,0) 32->64": kernel, stride, padding, channels. */
    String describe() {
        String stride = sh == sw ? "/" + sh : "/" + sh + "x" + sw;
        String pad = pt == 0 && pl == 0 && pb == 0 && pr == 0 ? "" : " pad " + pt + "," + pl + "," + pb + "," + pr;
        String dil = dh == 1 && dw == 1 ? "" : " dil " + dh + "x" + dw;
        return kh + "x" + kw + (stride.equals("/1") ? "" : stride) + pad + dil + " " + cin + "->" + cout;
    }
}
