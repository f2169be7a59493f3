package org.deepfever.core.op;

import java.util.Arrays;
import org.deepfever.core.Shape;

/** sqrt(sum(x^2)) over the given axes. */
public record ReduceL2(int[] axes, boolean keepDims) implements Op {
    public ReduceL2 { axes = axes.clone(); }

    @Override public int arity() { return 1; }

    public boolean reduces(int axis, int rank) {
        for (int a : axes) if ((a < 0 ? a + rank : a) == axis) return true;
        return false;
    }

    @Override
    public Shape outputShape(Shape... in) {
        int rank = in[0].rank();
        for (int a : axes) if (!((a < 0 ? a + rank : a) >= 0 && (a < 0 ? a + rank : a) < rank)) throw new IllegalArgumentException("ReduceL2 axis " + a + " out of " + in[0]);
        int[] out = new int[rank];
        int n = 0;
        for (int d = 0; d < rank; d++) {
            if (!reduces(d, rank)) out[n++] = in[0].dim(d);
            else if (keepDims) out[n++] = 1;
        }
        return Shape.of(Arrays.copyOf(out, n));
    }

    @Override public boolean equals(Object o) { return o instanceof ReduceL2 r && Arrays.equals(axes, r.axes) && keepDims == r.keepDims; }
    @Override public int hashCode() { return Arrays.hashCode(axes) * 31 + Boolean.hashCode(keepDims); }
    @Override public String toString() { return "ReduceL2" + Arrays.toString(axes) + (keepDims ? " keepdims" : ""); }
}
