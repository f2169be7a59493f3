package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** Mean over H and W of an NCHW tensor: [N,C] or, with keepDims, [N,C,1,1]. */
public record GlobalAvgPool(boolean keepDims) implements Op {
    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        Op.requireRank(this, in[0], 4);
        return keepDims ? Shape.of(in[0].dim(0), in[0].dim(1), 1, 1) : Shape.of(in[0].dim(0), in[0].dim(1));
    }
}
