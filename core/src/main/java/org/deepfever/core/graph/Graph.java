package org.deepfever.core.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Shape;

/**
 * A dataflow graph of typed ops in topological order. Values are numbered; each is either a graph
 * input or the output of exactly one node. Input shapes may have a dynamic first (batch) dimension (-1).
 */
public final class Graph {
    private final List<Node> nodes;
    private final List<String> valueNames;
    private final Map<String, Integer> inputs;
    private final Map<String, Shape> inputShapes;
    private final Map<String, Integer> outputs;

    Graph(List<Node> nodes, List<String> valueNames, Map<String, Integer> inputs, Map<String, Shape> inputShapes,
          Map<String, Integer> outputs) {
        this.nodes = List.copyOf(nodes);
        this.valueNames = List.copyOf(valueNames);
        this.inputs = Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
        this.inputShapes = Collections.unmodifiableMap(new LinkedHashMap<>(inputShapes));
        this.outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
    }

    public List<Node> nodes() { return nodes; }
    public int valueCount() { return valueNames.size(); }
    public String valueName(int v) { return valueNames.get(v); }
    /** Input name to value id, in declaration order. */
    public Map<String, Integer> inputs() { return inputs; }
    public Map<String, Shape> inputShapes() { return inputShapes; }
    /** Output name to value id, in declaration order. */
    public Map<String, Integer> outputs() { return outputs; }

    /**
     * The same graph with its nodes in another order ({@code order}: a permutation of {@link #nodes()}
     * in which every node comes after the producers of its inputs).
     */
    public Graph withNodeOrder(List<Node> order) {
        java.util.Set<Node> given = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        given.addAll(order);
        if (order.size() != nodes.size() || given.size() != nodes.size() || !nodes.stream().allMatch(given::contains)) {
            throw new IllegalArgumentException("node order: not a permutation of the graph's nodes");
        }
        boolean[] ready = new boolean[valueCount()];
        for (int v : inputs.values()) ready[v] = true;
        for (Node n : order) {
            for (int v : n.inputs()) {
                if (!ready[v]) throw new IllegalArgumentException("node order: " + n.name() + " runs before its input " + valueName(v) + " exists");
            }
            ready[n.output()] = true;
        }
        return new Graph(order, valueNames, inputs, inputShapes, outputs);
    }

    /** Shapes of every value for a concrete batch size (the dynamic dimension of the inputs). */
    public Shape[] inferShapes(int batch) {
        Shape[] shapes = new Shape[valueCount()];
        for (var e : inputs.entrySet()) {
            Shape s = inputShapes.get(e.getKey());
            if (s.dim(0) < 0) s = s.withDim(0, batch);
            shapes[e.getValue()] = s;
        }
        for (Node n : nodes) {
            Shape[] in = new Shape[n.inputCount()];
            for (int i = 0; i < in.length; i++) in[i] = shapes[n.input(i)];
            try {
                shapes[n.output()] = n.op().outputShape(in);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("node " + n.name() + " (" + n.op().kind() + "): " + e.getMessage(), e);
            }
        }
        return shapes;
    }

    /** Multiply-accumulates per batch item. */
    public long macsPerItem() {
        Shape[] shapes = inferShapes(1);
        long macs = 0;
        for (Node n : nodes) {
            Shape[] in = new Shape[n.inputCount()];
            for (int i = 0; i < in.length; i++) in[i] = shapes[n.input(i)];
            macs += n.op().macs(in);
        }
        return macs;
    }

    public static Builder builder() { return new Builder(); }

    /** Builds a graph node by node; shapes are checked as nodes are added (with batch 1). */
    public static final class Builder {
        private final List<Node> nodes = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private final List<Shape> probe = new ArrayList<>();
        private final Map<String, Integer> inputs = new LinkedHashMap<>();
        private final Map<String, Shape> inputShapes = new LinkedHashMap<>();
        private final Map<String, Integer> outputs = new LinkedHashMap<>();

        public int input(String name, Shape shape) {
            if (inputs.containsKey(name)) throw new IllegalArgumentException("duplicate input " + name);
            int v = names.size();
            names.add(name);
            probe.add(shape.dim(0) < 0 ? shape.withDim(0, 1) : shape);
            inputs.put(name, v);
            inputShapes.put(name, shape);
            return v;
        }

        /** Adds a node; returns the id of its output value (named after the node). */
        public int add(String name, org.deepfever.core.op.Op op, int... in) {
            Shape[] shapes = new Shape[in.length];
            for (int i = 0; i < in.length; i++) {
                if (in[i] < 0 || in[i] >= names.size()) throw new IllegalArgumentException("node " + name + ": unknown input value " + in[i]);
                shapes[i] = probe.get(in[i]);
            }
            int v = names.size();
            Node node = new Node(name, op, in, v);
            Shape out;
            try {
                out = op.outputShape(shapes);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("node " + name + " (" + op.kind() + "): " + e.getMessage(), e);
            }
            names.add(name);
            probe.add(out);
            nodes.add(node);
            return v;
        }

        public Shape shapeOf(int value) { return probe.get(value); }

        public Builder output(String name, int value) {
            outputs.put(name, value);
            return this;
        }

        public Graph build() {
            if (outputs.isEmpty()) throw new IllegalStateException("graph has no outputs");
            return new Graph(nodes, names, inputs, inputShapes, outputs);
        }
    }
}
