package org.deepfever.core.op;

import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;

/**
 * 2-D convolution, NCHW, weight [Cout, Cin/groups, kH, kW], optional bias [Cout].
 * Epilogue: {@code out = activation(conv(x) + bias [+ residual])}; with {@code residual} the op takes
 * a second input of the output's shape (the scaled residual add of Inception-ResNet blocks is
 * folded in by scaling the weights and bias).
 *
 * <p>{@code outScale} (optional, [Cout]) multiplies each output channel's weights: the effective
 * weights are {@code weight[co] * outScale[co]} ({@link #readWeightRows}, {@link
 * #effectiveWeights}), while {@code bias} is the effective bias. A folded BatchNorm or residual scale
 * is kept apart this way, so that weights mapped from the model file are not copied to the heap
 * (the kernels apply the factor while they pack).
 */
public record Conv2d(Tensor weight, Tensor bias, int strideH, int strideW, int padTop, int padLeft,
                     int padBottom, int padRight, int dilationH, int dilationW, int groups,
                     Activation activation, boolean residual, Tensor outScale) implements Op {

    public Conv2d {
        if (weight.rank() != 4) throw new IllegalArgumentException("Conv2d weight must be [Cout, Cin/groups, kH, kW], got " + weight.shape());
        if (!(groups >= 1 && weight.dim(0) % groups == 0)) throw new IllegalArgumentException("Conv2d: Cout " + weight.dim(0) + " not divisible by groups " + groups);
        if (!(bias == null || (bias.rank() == 1 && bias.dim(0) == weight.dim(0)))) throw new IllegalArgumentException("Conv2d bias must be [" + weight.dim(0) + "], got " + (bias == null ? null : bias.shape()));
        Op.require(strideH >= 1 && strideW >= 1 && dilationH >= 1 && dilationW >= 1, "Conv2d: stride and dilation must be >= 1");
        Op.require(padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0, "Conv2d: negative padding");
        if (outScale != null && (outScale.rank() != 1 || outScale.dim(0) != weight.dim(0))) {
            throw new IllegalArgumentException("Conv2d output scale must be [" + weight.dim(0) + "], got " + outScale.shape());
        }
    }

    /** Without an output scale. */
    public Conv2d(Tensor weight, Tensor bias, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight,
                  int dilationH, int dilationW, int groups, Activation activation, boolean residual) {
        this(weight, bias, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups, activation, residual, null);
    }

    /** Convolution with symmetric padding, no dilation, no groups. */
    public static Conv2d of(Tensor weight, Tensor bias, int stride, int padH, int padW, Activation act) {
        return new Conv2d(weight, bias, stride, stride, padH, padW, padH, padW, 1, 1, 1, act, false, null);
    }

    public int outChannels() { return weight.dim(0); }
    public int inChannels() { return weight.dim(1) * groups; }
    public int kernelH() { return weight.dim(2); }
    public int kernelW() { return weight.dim(3); }

    public Conv2d withActivation(Activation a) {
        return new Conv2d(weight, bias, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups, a, residual, outScale);
    }

    /** These effective weights and bias (any output scale dropped). */
    public Conv2d withWeights(Tensor w, Tensor b) {
        return new Conv2d(w, b, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups, activation, residual, null);
    }

    public Conv2d withResidual(boolean r) {
        return new Conv2d(weight, bias, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups, activation, r, outScale);
    }

    /**
     * This conv with its effective weights multiplied by {@code scale[co]} per output channel (on top
     * of any output scale it has) and the given effective bias; the weight tensor itself is kept.
     */
    public Conv2d withOutputScale(float[] scale, Tensor b) {
        int cout = outChannels();
        if (scale.length != cout) throw new IllegalArgumentException("Conv2d output scale must have " + cout + " values, got " + scale.length);
        float[] s = scale.clone();
        if (outScale != null) {
            float[] old = outScale.toFloatArray();
            for (int co = 0; co < cout; co++) s[co] *= old[co];
        }
        return new Conv2d(weight, b, strideH, strideW, padTop, padLeft, padBottom, padRight, dilationH, dilationW, groups, activation, residual,
                Tensor.of(s, cout));
    }

    /**
     * This conv with its weights and bias multiplied by {@code scale} (a residual block's scale): the
     * weights through the output scale, so the weight tensor is not copied.
     */
    public Conv2d scaledBy(float scale) {
        float[] s = new float[outChannels()];
        java.util.Arrays.fill(s, scale);
        Tensor b = null;
        if (bias != null) {
            float[] bb = bias.toFloatArray();
            for (int i = 0; i < bb.length; i++) bb[i] *= scale;
            b = Tensor.of(bb, bb.length);
        }
        return withOutputScale(s, b);
    }

    /**
     * Effective weights of output channels [co0, co0 + rows) ({@code rows * Cin/groups * kH * kW}
     * floats, row-major) into {@code dst[off ..]}: read in one bulk copy from the weight tensor, mapped
     * or not, then scaled row by row.
     */
    public void readWeightRows(int co0, int rows, float[] dst, int off) {
        int per = Math.toIntExact(weight.size() / outChannels());
        weight.readFlat((long) co0 * per, dst, off, rows * per);
        if (outScale == null) return;
        for (int r = 0; r < rows; r++) scaleRow(dst, off + r * per, per, outScale.getFlat(co0 + r));
    }

    /** All effective weights, [Cout, Cin/groups, kH, kW] row-major, in a new array. */
    public float[] effectiveWeights() {
        float[] w = new float[Math.toIntExact(weight.size())];
        readWeightRows(0, outChannels(), w, 0);
        return w;
    }

    /** {@code a[from .. from+n) *= s}: a small method of its own so that the JIT compiles it early. */
    private static void scaleRow(float[] a, int from, int n, float s) {
        for (int i = from, end = from + n; i < end; i++) a[i] *= s;
    }

    @Override public int arity() { return residual ? 2 : 1; }

    public int outH(int h) { return (h + padTop + padBottom - dilationH * (kernelH() - 1) - 1) / strideH + 1; }
    public int outW(int w) { return (w + padLeft + padRight - dilationW * (kernelW() - 1) - 1) / strideW + 1; }

    @Override
    public Shape outputShape(Shape... in) {
        Op.requireRank(this, in[0], 4);
        if (in[0].dim(1) != inChannels()) throw new IllegalArgumentException("Conv2d expects " + inChannels() + " input channels, got " + in[0]);
        int oh = outH(in[0].dim(2)), ow = outW(in[0].dim(3));
        if (oh <= 0 || ow <= 0) throw new IllegalArgumentException("Conv2d: input " + in[0] + " too small for kernel " + kernelH() + "x" + kernelW());
        Shape out = Shape.of(in[0].dim(0), outChannels(), oh, ow);
        if (residual && !in[1].equals(out)) throw new IllegalArgumentException("Conv2d residual input " + in[1] + " != output " + out);
        return out;
    }

    @Override
    public long macs(Shape... in) {
        Shape o = outputShape(in);
        return (long) o.dim(1) * o.dim(2) * o.dim(3) * weight.dim(1) * kernelH() * kernelW();
    }
}
