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
 *
 * <p>Batch lanes: a batch of at least as many items as the pool has threads is cut into one
 * sub-batch per thread, each run through the whole graph by one thread with single-threaded kernels
 * ({@link #lanes}). Inside one image a layer's loop splits into small tasks that the threads then
 * join after; across images the threads only meet at the end, and each keeps its own images'
 * activations in its own core's caches.
 */
public final class CompiledGraph implements GraphExecutor {
    private final Graph graph;
    private final Kernel[] kernels;
    private final Backend[] chosen;
    private final ThreadPool pool;
    private final boolean ownsPool;
    private final Map<Integer, ConcurrentLinkedQueue<ExecutionPlan>> plans = new ConcurrentHashMap<>();
    /** Plans of batch lanes by sub-batch size: one thread each. */
    private final Map<Integer, ConcurrentLinkedQueue<ExecutionPlan>> lanePlans = new ConcurrentHashMap<>();
    /** The pool of a batch lane: one thread, so that its loops run on the lane's own thread (it starts no worker). */
    private static final ThreadPool ONE_THREAD = new ThreadPool(1);

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

    /**
     * A fresh plan for {@code batch} run by the whole pool (no batch lanes): shapes, buffer placement
     * and peak activation memory.
     */
    public ExecutionPlan plan(int batch) { return new ExecutionPlan(this, batch, pool); }

    /**
     * The batch lanes a run of {@code batch} items takes: the pool's thread count when the batch has
     * at least that many items (and the graph runs on more than one thread), else 1 (the whole batch
     * on the whole pool). Full-size DeepFEVER, batch 8 on two threads, AMD EPYC (Zen 5), {@code fever
     * bench} ratio to ONNX Runtime in 9 alternated pairs on a noisy host: median 0.956 against 1.003
     * without lanes, 7 pairs of 9 won. Items of different lanes share no tile, so an item's result
     * may differ from the whole batch's on one thread by float rounding (about 1e-7 relative).
     */
    public int lanes(int batch) {
        int t = pool.threads();
        return t > 1 && batch >= t ? t : 1;
    }

    /** Items of lane {@code lane} of {@code lanes}: the batch cut as evenly as it goes, earlier lanes first. */
    static int laneStart(int batch, int lanes, int lane) { return (int) ((long) batch * lane / lanes); }

    /**
     * The heap activation arenas of a run of {@code batch}: one plan's ({@link ExecutionPlan#peakActivationBytes}),
     * or the sum of its lanes' plans.
     */
    @Override
    public long peakActivationBytes(int batch) {
        int lanes = lanes(batch);
        if (lanes == 1) return plan(batch).peakActivationBytes();
        long sum = 0;
        for (int l = 0; l < lanes; l++) {
            sum += new ExecutionPlan(this, laneStart(batch, lanes, l + 1) - laneStart(batch, lanes, l), ONE_THREAD).peakActivationBytes();
        }
        return sum;
    }

    /**
     * Runs the graph. Inputs by name (heap or mapped, any layout; the batch is taken from the first
     * input); outputs by name, as fresh contiguous tensors owned by the caller.
     */
    @Override
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        Tensor first = inputs.get(graph.inputs().keySet().iterator().next());
        if (first == null) throw new IllegalArgumentException("missing input '" + graph.inputs().keySet().iterator().next() + "'");
        int batch = first.dim(0);
        int lanes = lanes(batch);
        if (lanes == 1) return runPlan(plans, batch, inputs, pool);
        @SuppressWarnings("unchecked")
        Map<String, Tensor>[] parts = new Map[lanes];
        pool.parallelFor(lanes, l -> {
            int b0 = laneStart(batch, lanes, l), b1 = laneStart(batch, lanes, l + 1);
            Map<String, Tensor> in = new LinkedHashMap<>();
            for (var e : inputs.entrySet()) in.put(e.getKey(), sliceBatch(e.getKey(), e.getValue(), batch, b0, b1 - b0));
            parts[l] = runPlan(lanePlans, b1 - b0, in, ONE_THREAD);
        });
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : parts[0].keySet()) {
            int[] dims = parts[0].get(name).shape().dims();
            dims[0] = batch;
            Tensor whole = Tensor.zeros(dims);
            for (int l = 0; l < lanes; l++) {
                int b0 = laneStart(batch, lanes, l);
                whole.slice(0, b0, laneStart(batch, lanes, l + 1) - b0).copyFrom(parts[l].get(name));
            }
            out.put(name, whole);
        }
        return out;
    }

    /** Items [b0, b0 + n) of a batch input (a view). */
    private static Tensor sliceBatch(String name, Tensor t, int batch, int b0, int n) {
        if (t.rank() == 0 || t.dim(0) != batch) {
            throw new IllegalArgumentException("input '" + name + "': expected a batch of " + batch + " first, got shape " + t.shape());
        }
        return t.slice(0, b0, n);
    }

    /** Runs {@code inputs} on a plan for {@code batch} from {@code pooled} (made when none is free) on {@code threads}. */
    private Map<String, Tensor> runPlan(Map<Integer, ConcurrentLinkedQueue<ExecutionPlan>> pooled, int batch, Map<String, Tensor> inputs,
                                        ThreadPool threads) {
        ConcurrentLinkedQueue<ExecutionPlan> q = pooled.computeIfAbsent(batch, b -> new ConcurrentLinkedQueue<>());
        ExecutionPlan plan = q.poll();
        if (plan == null) plan = new ExecutionPlan(this, batch, threads);
        try {
            return plan.execute(inputs);
        } finally {
            q.offer(plan);
        }
    }

    @Override
    public void close() {
        plans.clear();
        lanePlans.clear();
        if (ownsPool) pool.close();
    }
}
