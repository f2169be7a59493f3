package org.deepfever.core.op;

import org.deepfever.core.Shape;

/**
 * Concatenation along an axis. The executor lets producers write straight into channel slices of
 * the output where it can (axis 1), in which case no kernel runs at all.
 */
public record Concat(int axis, int inputs) implements Op {
    public Concat { Op.require(inputs >= 1, "Concat needs at least one input"); }

    @Override public int arity() { return inputs; }

    @Override
    public Shape outputShape(Shape... in) {
        int rank = in[0].rank();
        int ax = axis < 0 ? axis + rank : axis;
        if (!(ax >= 0 && ax < rank)) throw new IllegalArgumentException("Concat axis " + axis + " out of rank " + rank);
        int total = 0;
        for (Shape s : in) {
            if (s.rank() != rank) throw new IllegalArgumentException("Concat inputs differ in rank: " + in[0] + " vs " + s);
            for (int d = 0; d < rank; d++) {
                if (d != ax && s.dim(d) != in[0].dim(d)) throw new IllegalArgumentException("Concat inputs differ off axis " + ax + ": " + in[0] + " vs " + s);
            }
            total += s.dim(ax);
        }
        return in[0].withDim(ax, total);
    }

    public int normalizedAxis(int rank) { return axis < 0 ? axis + rank : axis; }
}
