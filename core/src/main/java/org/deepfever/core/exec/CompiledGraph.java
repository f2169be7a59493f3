package org.deepfever.core.exec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backend;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.Kernel;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.Op;

/**
 * A graph with a kernel prepared for every node, ready to run. Each node runs on the preferred
 * backend when it supports the op, otherwise on the fallback (reference) backend; a node neither
 * supports fails here, at compile time, with every such node listed.
 *
 * <p>Thread-safe: concurrent {@link #run} calls each take their own {@link ExecutionPlan} (activation
 * arena) from a pool keyed by batch size, so steady-state runs allocate no activation memory.
 */
public final class CompiledGraph implements GraphExecutor {
    private final Graph graph;
    private final Kernel[] kernels;
    private final Backend[] chosen;
    private final ThreadPool pool;
    private final boolean ownsPool;
    private final Map<Integer, ConcurrentLinkedQueue<ExecutionPlan>> plans = new ConcurrentHashMap<>();

    public CompiledGraph(Graph graph, Backend preferred, Backend fallback, ThreadPool pool, boolean ownsPool) {
        this.graph = Schedule.poolsEarly(graph);
        this.pool = pool;
        this.ownsPool = ownsPool;
        List<Node> nodes = this.graph.nodes();
        this.kernels = new Kernel[nodes.size()];
        this.chosen = new Backend[nodes.size()];
        try {
            prepareAll(nodes, preferred, fallback);
        } catch (RuntimeException | Error e) {
            if (ownsPool) pool.close();
            throw e;
        }
    }

    /**
     * Prepares every node's kernel, spread over the pool's threads (the nodes are independent). Then
     * each kernel sees its batch-1 shapes once ({@link Kernel#scratchFloats}), which is where kernels
     * pack their weights for the shapes they will run: the graph is ready to run when this returns,
     * not at the first inference. Errors are those of a node-by-node pass: the first node (in graph
     * order) whose preparation throws, else every node no backend supports.
     */
    private void prepareAll(List<Node> nodes, Backend preferred, Backend fallback) {
        int count = nodes.size();
        Shape[] shapes;
        try {
            shapes = graph.inferShapes(1);
        } catch (RuntimeException e) {
            shapes = null; // planning will report it
        }
        final Shape[] batch1 = shapes;
        Integer[] order = new Integer[count];
        long[] cost = new long[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
            cost[i] = weightSize(nodes.get(i).op());
        }
        // Smallest weights first: the packing loops get compiled on small layers, the big ones then run compiled.
        Arrays.sort(order, (a, b) -> Long.compare(cost[a], cost[b]));
        boolean[] unsupported = new boolean[count];
        Throwable[] failures = new Throwable[count];
        pool.parallelFor(count, t -> {
            int i = order[t];
            Node n = nodes.get(i);
            try {
                Backend b = preferred.supports(n.op()) ? preferred : fallback != null && fallback.supports(n.op()) ? fallback : null;
                if (b == null) {
                    unsupported[i] = true;
                    return;
                }
                Kernel k = b.prepare(n.op());
                chosen[i] = b;
                kernels[i] = k;
                if (batch1 != null) prepack(k, n, batch1);
            } catch (RuntimeException | Error e) {
                failures[i] = e;
            }
        });
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Throwable f = failures[i];
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error err) throw err;
            if (unsupported[i]) names.add(nodes.get(i).op().kind() + " (node " + nodes.get(i).name() + ")");
        }
        if (!names.isEmpty()) {
            throw new UnsupportedOperationException("no backend supports: " + String.join(", ", names));
        }
    }

    /** Lets a kernel pack its weights for the batch-1 shapes; a failure here is left for planning to report. */
    private void prepack(Kernel k, Node n, Shape[] shapes) {
        Shape[] in = new Shape[n.inputCount()];
        for (int j = 0; j < in.length; j++) in[j] = shapes[n.input(j)];
        try {
            k.scratchFloats(in, shapes[n.output()], pool.threads());
        } catch (RuntimeException e) {
            // ExecutionPlan calls scratchFloats again and reports it there.
        }
    }

    private static long weightSize(Op op) {
        return switch (op) {
            case Conv2d c -> c.weight().size();
            case Gemm g -> g.weight().size();
            default -> 0;
        };
    }

    /** Compiles on the preferred backend (see {@link Backends#preferred}) with the reference as fallback. */
    public static CompiledGraph compile(Graph graph, int threads) {
        return compile(graph, threads, null);
    }

    /**
     * Compiles on the backend named {@code backend} (null: the preferred one, see
     * {@link Backends#preferred}) with the reference as fallback, on a pool of its own.
     *
     * @throws IllegalArgumentException when no backend has that name
     * @throws IllegalStateException when that backend is not available here
     */
    public static CompiledGraph compile(Graph graph, int threads, String backend) {
        Backend preferred = backend == null ? Backends.preferred() : Backends.byName(backend);
        Backend fallback = preferred.name().equals(Backends.REFERENCE) ? null : Backends.reference();
        return new CompiledGraph(graph, preferred, fallback, new ThreadPool(threads), true);
    }

    /** The graph as it runs: the given one, its nodes perhaps reordered ({@link Schedule}). */
    public Graph graph() { return graph; }
    public ThreadPool pool() { return pool; }
    Kernel kernel(int node) { return kernels[node]; }
    Backend backend(int node) { return chosen[node]; }

    /** Which backend runs each node, by node name. */
    @Override
    public Map<String, String> backendByNode() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kernels.length; i++) m.put(graph.nodes().get(i).name(), chosen[i].name());
        return m;
    }

    /** A fresh plan for {@code batch}: shapes, buffer placement and peak activation memory. */
    public ExecutionPlan plan(int batch) { return new ExecutionPlan(this, batch); }

    /** The heap activation arena of a plan for {@code batch} ({@link ExecutionPlan#peakActivationBytes}). */
    @Override
    public long peakActivationBytes(int batch) { return plan(batch).peakActivationBytes(); }

    /**
     * Runs the graph. Inputs by name (heap or mapped, any layout; the batch is taken from the first
     * input); outputs by name, as fresh contiguous tensors owned by the caller.
     */
    @Override
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
