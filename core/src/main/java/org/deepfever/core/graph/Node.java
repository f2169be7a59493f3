package org.deepfever.core.graph;

import org.deepfever.core.op.Op;

/** One operation of a graph: reads the values {@code inputs}, writes the value {@code output}. */
public record Node(String name, Op op, int[] inputs, int output) {
    public Node {
        inputs = inputs.clone();
        if (inputs.length != op.arity()) {
            throw new IllegalArgumentException("node " + name + ": " + op.kind() + " takes " + op.arity() + " inputs, got " + inputs.length);
        }
    }

    @Override public int[] inputs() { return inputs.clone(); }
    public int input(int i) { return inputs[i]; }
    public int inputCount() { return inputs.length; }
}
