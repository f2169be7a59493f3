package org.deepfever.cuda;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;

/**
 * The nodes the device leaves to the host ({@link Partition}), as a graph of their own compiled for
 * the CPU backends: its inputs are the values copied back from the device (and any graph input a
 * host node reads), its outputs the graph outputs the host makes. DeepFEVER's tail is the
 * L2-normalised embedding: a few hundred floats per face.
 */
final class HostTail implements AutoCloseable {
    private final Graph sub;
    private final CompiledGraph compiled;
    private final Map<String, Integer> inputValue = new LinkedHashMap<>(); // sub-graph input name -> original value

    private HostTail(Graph sub, Map<String, Integer> inputValue, int threads) {
        this.sub = sub;
        this.inputValue.putAll(inputValue);
        this.compiled = CompiledGraph.compile(sub, threads);
    }

    /** The tail of {@code partition}, or null when the device runs every node. */
    static HostTail of(Partition partition, int threads) {
        Graph g = partition.graph();
        List<Node> nodes = g.nodes();
        if (partition.hostNodes() == 0) return null;
        Shape[] shapes = g.inferShapes(1);
        Graph.Builder b = Graph.builder();
        Map<Integer, Integer> ids = new HashMap<>();
        Map<String, Integer> inputs = new LinkedHashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (partition.onDevice(i)) continue;
            Node n = nodes.get(i);
            int[] in = new int[n.inputCount()];
            for (int k = 0; k < in.length; k++) {
                int v = n.input(k);
                Integer id = ids.get(v);
                if (id == null) {
                    String name = g.valueName(v);
                    id = b.input(name, shapes[v].withDim(0, -1));
                    ids.put(v, id);
                    inputs.put(name, v);
                }
                in[k] = id;
            }
            ids.put(n.output(), b.add(n.name(), n.op(), in));
        }
        for (var e : g.outputs().entrySet()) {
            Integer id = ids.get(e.getValue());
            if (id != null && !inputs.containsValue(e.getValue())) b.output(e.getKey(), id);
        }
        return new HostTail(b.build(), inputs, threads);
    }

    /**
     * Runs the tail on the copied-back values ({@code fromDevice}, by value id) and the graph inputs.
     * Returns the graph outputs it makes, by output name.
     */
    Map<String, Tensor> run(Map<Integer, Tensor> fromDevice, Map<String, Tensor> graphInputs) {
        Map<String, Tensor> in = new LinkedHashMap<>();
        for (var e : inputValue.entrySet()) {
            Tensor t = fromDevice.get(e.getValue());
            if (t == null) t = graphInputs.get(e.getKey());
            in.put(e.getKey(), t);
        }
        return compiled.run(in);
    }

    /** Which CPU backend runs each tail node, by node name. */
    Map<String, String> backendByNode() { return compiled.backendByNode(); }

    Graph graph() { return sub; }

    @Override public void close() { compiled.close(); }
}
