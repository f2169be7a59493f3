package org.deepfever.core.op;

import org.deepfever.core.Shape;

/**
 * A typed operation of the graph. Parameters (including weights) live in the record; activations
 * flow through the graph. Shapes are inferred with {@link #outputShape}, which throws
 * {@link IllegalArgumentException} naming the mismatch.
 */
public sealed interface Op permits Conv2d, DepthwiseConv2d, BatchNorm, Relu, Sigmoid, Clip, ResidualAdd, MaxPool2d,
        GlobalAvgPool, Concat, Binary, Gemm, Softmax, L2Normalize, ReduceL2, Flatten, Reshape, Transpose,
        Identity {

    /** Short type name used in messages and {@code supports} tables, e.g. "Conv2d". */
    default String kind() { return getClass().getSimpleName(); }

    /** Number of activation inputs. */
    int arity();

    Shape outputShape(Shape... inputs);

    /** Multiply-accumulates per item of the batch for the given input shapes (0 if negligible). */
    default long macs(Shape... inputs) { return 0; }

    static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    static void requireRank(Op op, Shape s, int rank) {
        if (s.rank() != rank) throw new IllegalArgumentException(op.kind() + " expects a rank-" + rank + " input, got " + s);
    }
}
