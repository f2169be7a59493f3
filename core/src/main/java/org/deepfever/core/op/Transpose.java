package org.deepfever.core.op;

import java.util.Arrays;
import org.deepfever.core.Shape;

/** Permutes dimensions: output dim i is input dim perm[i]. */
public record Transpose(int[] perm) implements Op {
    public Transpose { perm = perm.clone(); }

    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        if (perm.length != in[0].rank()) throw new IllegalArgumentException("Transpose perm " + Arrays.toString(perm) + " does not match " + in[0]);
        boolean[] seen = new boolean[perm.length];
        int[] out = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            if (!(perm[i] >= 0 && perm[i] < perm.length && !seen[perm[i]])) throw new IllegalArgumentException("Transpose perm " + Arrays.toString(perm) + " is not a permutation");
            seen[perm[i]] = true;
            out[i] = in[0].dim(perm[i]);
        }
        return Shape.of(out);
    }

    @Override public boolean equals(Object o) { return o instanceof Transpose t && Arrays.equals(perm, t.perm); }
    @Override public int hashCode() { return Arrays.hashCode(perm); }
    @Override public String toString() { return "Transpose" + Arrays.toString(perm); }
}
