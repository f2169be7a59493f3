package org.deepfever.cuda;

import java.util.ArrayList;
import java.util.List;
import org.deepfever.core.Shape;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.Conv2d;

/**
 * Which nodes run on the device and which on the host. A node runs on the device when the device
 * supports it ({@link DeviceSupport}) and all its inputs are there (graph inputs or values the
 * device made). The rest, a tail such as DeepFEVER's L2-normalised embedding, runs on the host
 * after the single copy back. A convolution may not end up on the host: that would be most of the
 * work, and silently slow; the graph is refused instead, every cause named.
 */
final class Partition {
    private final Graph graph;
    private final boolean[] device;   // node -> runs on the device
    private final boolean[] boundary; // value -> made on the device and needed on the host (host input or graph output)
    private final boolean[] deviceValue; // value -> lives in device memory

    private Partition(Graph graph, boolean[] device, boolean[] boundary, boolean[] deviceValue) {
        this.graph = graph;
        this.device = device;
        this.boundary = boundary;
        this.deviceValue = deviceValue;
    }

    /**
     * Splits {@code graph}.
     *
     * @throws UnsupportedOperationException when a convolution would run on the host; the message
     *         names each node the device cannot run and why
     */
    static Partition of(Graph graph) {
        List<Node> nodes = graph.nodes();
        Shape[] shapes = graph.inferShapes(1);
        int values = graph.valueCount();
        boolean[] onDevice = new boolean[nodes.size()];
        boolean[] deviceMade = new boolean[values];
        boolean[] isInput = new boolean[values];
        for (int v : graph.inputs().values()) isInput[v] = true;
        List<String> causes = new ArrayList<>();
        List<String> hostConvs = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            Shape[] in = new Shape[n.inputCount()];
            boolean inputsThere = true;
            for (int k = 0; k < in.length; k++) {
                in[k] = shapes[n.input(k)];
                inputsThere &= isInput[n.input(k)] || deviceMade[n.input(k)];
            }
            String why = DeviceSupport.whyNot(n.op(), in, shapes[n.output()]);
            if (why == null && inputsThere) {
                onDevice[i] = true;
                deviceMade[n.output()] = true;
            } else {
                if (why != null) causes.add(n.name() + " (" + n.op().kind() + "): " + why);
                if (n.op() instanceof Conv2d) hostConvs.add(n.name());
            }
        }
        if (!hostConvs.isEmpty()) {
            throw new UnsupportedOperationException("the cuda device cannot run this graph: convolution" + (hostConvs.size() > 1 ? "s " : " ")
                    + hostConvs.stream().limit(5).toList() + (hostConvs.size() > 5 ? " and " + (hostConvs.size() - 5) + " more" : "")
                    + " would be left to the CPU, because of " + String.join("; ", causes) + ". Use --device cpu (the default) for this model");
        }
        boolean[] boundary = new boolean[values];
        boolean[] deviceValue = new boolean[values];
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            for (int v : n.inputs()) {
                if (onDevice[i]) deviceValue[v] = true;
                else if (deviceMade[v]) boundary[v] = true;
            }
            if (onDevice[i]) deviceValue[n.output()] = true;
        }
        for (int v : graph.outputs().values()) if (deviceMade[v]) boundary[v] = true;
        return new Partition(graph, onDevice, boundary, deviceValue);
    }

    Graph graph() { return graph; }

    /** Whether node {@code i} (graph order) runs on the device. */
    boolean onDevice(int node) { return device[node]; }

    /** Whether value {@code v} is made on the device and copied back (a graph output or an input of a host node). */
    boolean boundary(int value) { return boundary[value]; }

    /** Whether value {@code v} has device memory (an input or output of a device node). */
    boolean deviceValue(int value) { return deviceValue[value]; }

    /** Number of nodes left to the host. */
    int hostNodes() {
        int n = 0;
        for (boolean d : device) n += d ? 0 : 1;
        return n;
    }
}
