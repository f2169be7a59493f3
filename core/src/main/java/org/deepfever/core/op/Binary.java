package org.deepfever.core.op;

import org.deepfever.core.Shape;

/** Element-wise binary op with NumPy (ONNX multidirectional) broadcasting. */
public record Binary(Fn fn) implements Op {
    public enum Fn {
        ADD, SUB, MUL, DIV;

        public float apply(float a, float b) {
            return switch (this) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
            };
        }
    }

    public static Binary add() { return new Binary(Fn.ADD); }
    public static Binary mul() { return new Binary(Fn.MUL); }

    @Override public String kind() { return switch (fn) { case ADD -> "Add"; case SUB -> "Sub"; case MUL -> "Mul"; case DIV -> "Div"; }; }

    @Override public int arity() { return 2; }

    @Override
    public Shape outputShape(Shape... in) { return broadcast(in[0], in[1]); }

    public static Shape broadcast(Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.rank()) >= 0 ? a.dim(i - (rank - a.rank())) : 1;
            int db = i - (rank - b.rank()) >= 0 ? b.dim(i - (rank - b.rank())) : 1;
            if (!(da == db || da == 1 || db == 1)) throw new IllegalArgumentException("shapes " + a + " and " + b + " do not broadcast");
            out[i] = da == 1 ? db : da;
        }
        return Shape.of(out);
    }
}
