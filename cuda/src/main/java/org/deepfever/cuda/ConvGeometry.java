package org.deepfever.cuda;

import org.deepfever.core.op.Conv2d;

/**
 * A convolution as cuDNN's legacy descriptor takes it: one padding per axis (both sides equal),
 * strides, dilations, groups, and the filter [k, c/groups, kh, kw].
 */
record ConvGeometry(int padH, int padW, int strideH, int strideW, int dilationH, int dilationW, int groups,
                    int k, int cPerGroup, int kh, int kw) {

    /** Why {@code conv} cannot be described this way, or null when it can. */
    static String whyNot(Conv2d conv) {
        if (conv.padTop() != conv.padBottom() || conv.padLeft() != conv.padRight()) {
            return "asymmetric padding " + conv.padTop() + "/" + conv.padBottom() + ", " + conv.padLeft() + "/" + conv.padRight()
                    + " (cuDNN pads both sides of an axis equally)";
        }
        return null;
    }

    /** @throws IllegalArgumentException when {@link #whyNot} is not null */
    static ConvGeometry of(Conv2d conv) {
        String why = whyNot(conv);
        if (why != null) throw new IllegalArgumentException("Conv2d: " + why);
        return new ConvGeometry(conv.padTop(), conv.padLeft(), conv.strideH(), conv.strideW(), conv.dilationH(), conv.dilationW(),
                conv.groups(), conv.outChannels(), conv.weight().dim(1), conv.kernelH(), conv.kernelW());
    }

    @Override public String toString() {
        return "(pad " + padH + "x" + padW + ", stride " + strideH + "x" + strideW + ", dilation " + dilationH + "x" + dilationW
                + ", groups " + groups + ", filter [" + k + "," + cPerGroup + "," + kh + "," + kw + "])";
    }
}
