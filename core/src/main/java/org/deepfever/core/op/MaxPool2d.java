package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** Max pooling, NCHW; padded positions never win (they count as -infinity). */
public record MaxPool2d(int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
                        int padBottom, int padRight, boolean ceilMode) implements Op {

    public MaxPool2d {
        Op.require(kernelH >= 1 && kernelW >= 1 && strideH >= 1 && strideW >= 1, "MaxPool2d: kernel and stride must be >= 1");
        Op.require(padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0, "MaxPool2d: negative padding");
    }

    public static MaxPool2d of(int kernel, int stride) { return new MaxPool2d(kernel, kernel, stride, stride, 0, 0, 0, 0, false); }

    public int outH(int h) { return outSize(h, kernelH, strideH, padTop, padBottom); }
    public int outW(int w) { return outSize(w, kernelW, strideW, padLeft, padRight); }

    private int outSize(int n, int k, int s, int p0, int p1) {
        int span = n + p0 + p1 - k;
        int o = (ceilMode ? Math.ceilDiv(span, s) : Math.floorDiv(span, s)) + 1;
        // As in PyTorch: in ceil mode the last window must start inside the input or left padding.
        if (ceilMode && (o - 1) * s >= n + p0) o--;
        return o;
    }

    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        Op.requireRank(this, in[0], 4);
        int oh = outH(in[0].dim(2)), ow = outW(in[0].dim(3));
        if (oh <= 0 || ow <= 0) throw new IllegalArgumentException("MaxPool2d: input " + in[0] + " too small");
        return Shape.of(in[0].dim(0), in[0].dim(1), oh, ow);
    }
}
