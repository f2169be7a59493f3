package org.deepfever.core.op;

import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;

/**
 * Depthwise 2-D convolution, NCHW, channel multiplier 1: each channel convolved with its own
 * kernel, weight [C, 1, kH, kW], optional bias [C]. Padding may differ per side (TensorFlow's
 * "SAME" at stride 2 pads 0 before and 1 after). {@code reluInput} applies ReLU to every input
 * value as it is read (the pre-activation of face-api's dense blocks, where each conv reads the
 * ReLU of a running sum that is itself kept without it); {@code activation} applies to the output.
 * Padding is zero after the input ReLU, as with an explicit ReLU node before the conv.
 *
 * @param weight [C, 1, kH, kW]
 * @param bias [C] or null
 */
public record DepthwiseConv2d(Tensor weight, Tensor bias, int strideH, int strideW, int padTop, int padLeft,
                              int padBottom, int padRight, boolean reluInput, Activation activation) implements Op {

    /**
     * Checks the parameters.
     *
     * @throws IllegalArgumentException naming the bad weight, bias, stride or padding
     */
    public DepthwiseConv2d {
        if (weight.rank() != 4 || weight.dim(1) != 1) throw new IllegalArgumentException("DepthwiseConv2d weight must be [C, 1, kH, kW], got " + weight.shape());
        if (!(bias == null || (bias.rank() == 1 && bias.dim(0) == weight.dim(0)))) {
            throw new IllegalArgumentException("DepthwiseConv2d bias must be [" + weight.dim(0) + "], got " + (bias == null ? null : bias.shape()));
        }
        Op.require(strideH >= 1 && strideW >= 1, "DepthwiseConv2d: stride must be >= 1");
        Op.require(padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0, "DepthwiseConv2d: negative padding");
        if (activation == null) throw new IllegalArgumentException("DepthwiseConv2d: activation must not be null (use Activation.NONE)");
    }

    /** Channels in and out. */
    public int channels() { return weight.dim(0); }

    /** Kernel height. */
    public int kernelH() { return weight.dim(2); }

    /** Kernel width. */
    public int kernelW() { return weight.dim(3); }

    /** Output height for input height {@code h}. */
    public int outH(int h) { return (h + padTop + padBottom - kernelH()) / strideH + 1; }

    /** Output width for input width {@code w}. */
    public int outW(int w) { return (w + padLeft + padRight - kernelW()) / strideW + 1; }

    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        Op.requireRank(this, in[0], 4);
        if (in[0].dim(1) != channels()) throw new IllegalArgumentException("DepthwiseConv2d expects " + channels() + " input channels, got " + in[0]);
        int oh = outH(in[0].dim(2)), ow = outW(in[0].dim(3));
        if (in[0].dim(2) + padTop + padBottom < kernelH() || in[0].dim(3) + padLeft + padRight < kernelW() || oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException("DepthwiseConv2d: input " + in[0] + " too small for kernel " + kernelH() + "x" + kernelW());
        }
        return Shape.of(in[0].dim(0), channels(), oh, ow);
    }

    @Override
    public long macs(Shape... in) {
        Shape o = outputShape(in);
        return (long) o.dim(1) * o.dim(2) * o.dim(3) * kernelH() * kernelW();
    }
}
