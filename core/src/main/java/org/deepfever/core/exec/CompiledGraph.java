package org.deepfever.core.exec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;

/**
 * A graph with a kernel prepared for every node, ready to run. Each node runs on the preferred
 * backend when it supports the op, otherwise on the fallback (reference) backend; a node neither
 * supports fails here, at compile time, with every such node listed.
 *
 * <p>Thread-safe: concurrent {@link #run} calls each take their own {@link ExecutionPlan} (activation
 * arena) from a pool keyed by batch size, so steady-state runs allocate no activation memory.
 */
public final class CompiledGraph implements AutoCloseable {
    private final Graph graph;
    private final Kernel[] kernels;
    private final Backend[] chosen;
    private final ThreadPool pool;
    private final boolean ownsPool;
    private final Map<Integer, ConcurrentLinkedQueue<ExecutionPlan>> plans = new ConcurrentHashMap<>();

    public CompiledGraph(Graph graph, Backend preferred, Backend fallback, ThreadPool pool, boolean ownsPool) {
        this.graph = graph;
        this.pool = pool;
        this.ownsPool = ownsPool;
        List<Node> nodes = graph.nodes();
        this.kernels = new Kernel[nodes.size()];
        this.chosen = new Backend[nodes.size()];
        List<String> unsupported = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            Backend b = preferred.supports(n.op()) ? preferred : fallback != null && fallback.supports(n.op()) ? fallback : null;
            if (b == null) {
                unsupported.add(n.op().kind() + " (node " + n.name() + ")");
                continue;
            }
            chosen[i] = b;
            kernels[i] = b.prepare(n.op());
        }
        if (!unsupported.isEmpty()) {
            throw new UnsupportedOperationException("no backend supports: " + String.join(", ", unsupported));
        }
    }

    /** Compiles on the preferred backend (see {@link Backends#preferred}) with the reference as fallback. */
    public static CompiledGraph compile(Graph graph, int threads) {
        Backend preferred = Backends.preferred();
        Backend fallback = preferred.name().equals(Backends.REFERENCE) ? null : Backends.reference();
        return new CompiledGraph(graph, preferred, fallback, new ThreadPool(threads), true);
    }

    public Graph graph() { return graph; }
    public ThreadPool pool() { return pool; }
    Kernel kernel(int node) { return kernels[node]; }

    /** Which backend runs each node, by node name. */
    public Map<String, String> backendByNode() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kernels.length; i++) m.put(graph.nodes().get(i).name(), chosen[i].name());
        return m;
    }

    /** A fresh plan for {@code batch}: shapes, buffer placement and peak activation memory. */
    public ExecutionPlan plan(int batch) { return new ExecutionPlan(this, batch); }

    /**
     * Runs the graph. Inputs by name (heap or mapped, any layout; the batch is taken from the first
     * input); outputs by name, as fresh contiguous tensors owned by the caller.
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        Tensor first = inputs.get(graph.inputs().keySet().iterator().next());
        if (first == null) throw new IllegalArgumentException("missing input '" + graph.inputs().keySet().iterator().next() + "'");
        int batch = first.dim(0);
        ConcurrentLinkedQueue<ExecutionPlan> q = plans.computeIfAbsent(batch, b -> new ConcurrentLinkedQueue<>());
        ExecutionPlan plan = q.poll();
        if (plan == null) plan = plan(batch);
        try {
            return plan.execute(inputs);
        } finally {
            q.offer(plan);
        }
    }

    @Override
    public void close() {
        plans.clear();
        if (ownsPool) pool.close();
    }
}
