package org.deepfever.cuda;

import org.deepfever.core.Shape;
import org.deepfever.core.op.BatchNorm;
import org.deepfever.core.op.Binary;
import org.deepfever.core.op.Clip;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Flatten;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.GlobalAvgPool;
import org.deepfever.core.op.Identity;
import org.deepfever.core.op.MaxPool2d;
import org.deepfever.core.op.Op;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.Reshape;
import org.deepfever.core.op.ResidualAdd;
import org.deepfever.core.op.Sigmoid;

/**
 * Which ops the cuda device runs, for given shapes (batch-independent: only C, H, W matter), and
 * why not when it does not. Everything else (L2Normalize, Softmax, ReduceL2, Transpose, DIV) is left
 * to the host when it comes at the end of the graph ({@link Partition}).
 */
final class DeviceSupport {
    private DeviceSupport() {}

    /** Null when the device runs {@code op} on these shapes, else the reason, in words. */
    static String whyNot(Op op, Shape[] in, Shape out) {
        for (Shape s : in) if (s.rank() < 2 || s.rank() > 4) return "rank-" + s.rank() + " input " + s + " (the device handles ranks 2 to 4)";
        if (out.rank() < 2 || out.rank() > 4) return "rank-" + out.rank() + " output " + out + " (the device handles ranks 2 to 4)";
        return switch (op) {
            case Conv2d c -> ConvGeometry.whyNot(c);
            case MaxPool2d p -> pool(p, in[0], out);
            case GlobalAvgPool g -> null;
            case BatchNorm b -> null;
            case Relu r -> null;
            case Sigmoid s -> null;
            case Clip c -> c.min() == 0f && c.max() > 0f && Float.isFinite(c.max()) ? null
                    : "Clip(" + c.min() + ", " + c.max() + ") (only clip(0, max), cuDNN's clipped ReLU)";
            case ResidualAdd r -> null;
            case Binary b -> binary(b, in, out);
            case Concat c -> c.normalizedAxis(out.rank()) == 1 ? null : "concatenation on axis " + c.axis() + " (only the channel axis, 1)";
            case Gemm g -> null;
            case Flatten f -> null;
            case Reshape r -> null;
            case Identity i -> null;
            default -> op.kind() + " has no cuDNN/cuBLAS equivalent here";
        };
    }

    private static String pool(MaxPool2d p, Shape in, Shape out) {
        if (p.padTop() != p.padBottom() || p.padLeft() != p.padRight()) return "asymmetric pooling padding (cuDNN pads both sides equally)";
        if (p.padTop() >= p.kernelH() || p.padLeft() >= p.kernelW()) return "pooling padding as large as the window";
        // cuDNN's output size is floor((in + 2 pad - window) / stride) + 1; ceil mode only where it agrees
        int oh = (in.dim(2) + 2 * p.padTop() - p.kernelH()) / p.strideH() + 1;
        int ow = (in.dim(3) + 2 * p.padLeft() - p.kernelW()) / p.strideW() + 1;
        if (oh != out.dim(2) || ow != out.dim(3)) return "ceil-mode pooling whose output " + out + " differs from cuDNN's floor size " + oh + "x" + ow;
        return null;
    }

    private static String binary(Binary b, Shape[] in, Shape out) {
        if (b.fn() == Binary.Fn.DIV) return "division (cuDNN's op-tensor has no divide)";
        boolean aFull = in[0].equals(out), bFull = in[1].equals(out);
        if (aFull && broadcastsInto(in[1], out)) return null;
        if (bFull && b.fn() != Binary.Fn.SUB && broadcastsInto(in[0], out)) return null;
        return b.kind() + " of " + in[0] + " and " + in[1] + " (the device broadcasts only the second operand of a subtraction, or either of an addition or product, and only over whole dims)";
    }

    /** Whether {@code s}, left-padded with 1s to {@code out}'s rank, has each dim equal to {@code out}'s or 1. */
    static boolean broadcastsInto(Shape s, Shape out) {
        if (s.rank() > out.rank()) return false;
        int pad = out.rank() - s.rank();
        for (int i = 0; i < out.rank(); i++) {
            int d = i < pad ? 1 : s.dim(i - pad);
            if (d != 1 && d != out.dim(i)) return false;
        }
        return true;
    }

    /** {@code s} left-padded with 1s to rank {@code rank} (NumPy broadcasting aligns dims from the right). */
    static Shape leftPad(Shape s, int rank) {
        int[] d = new int[rank];
        int pad = rank - s.rank();
        for (int i = 0; i < rank; i++) d[i] = i < pad ? 1 : s.dim(i - pad);
        return Shape.of(d);
    }
}
