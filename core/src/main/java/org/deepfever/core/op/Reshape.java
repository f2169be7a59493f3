package org.deepfever.core.op;

import java.util.Arrays;
import org.deepfever.core.Shape;

/** ONNX Reshape with a constant target: 0 copies the input's dimension, -1 is inferred. */
public record Reshape(int[] target) implements Op {
    public Reshape { target = target.clone(); }

    @Override public int arity() { return 1; }

    @Override
    public Shape outputShape(Shape... in) {
        int[] out = target.clone();
        long known = 1;
        int infer = -1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0) out[i] = in[0].dim(i);
            if (out[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("Reshape target " + Arrays.toString(target) + " has two -1");
                infer = i;
            } else {
                known *= out[i];
            }
        }
        long total = in[0].size();
        if (infer >= 0) {
            if (!(known > 0 && total % known == 0)) throw new IllegalArgumentException("Reshape " + in[0] + " to " + Arrays.toString(target) + " does not divide");
            out[infer] = (int) (total / known);
        }
        Shape s = Shape.of(out);
        if (s.size() != total) throw new IllegalArgumentException("Reshape " + in[0] + " to " + s + " changes the element count");
        return s;
    }

    @Override public boolean equals(Object o) { return o instanceof Reshape r && Arrays.equals(target, r.target); }
    @Override public int hashCode() { return Arrays.hashCode(target); }
    @Override public String toString() { return "Reshape" + Arrays.toString(target); }
}
