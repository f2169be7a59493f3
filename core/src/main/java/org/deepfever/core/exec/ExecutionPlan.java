package org.deepfever.core.exec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Shape;
import org.deepfever.core.Storage;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.ExecContext;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.Concat;

/**
 * Activation memory for one batch size, planned before anything runs:
 * <ul>
 *   <li>Concat on axis 1 without copies: each input produced by a node is placed ("homed") in its
 *   channel slice of the concat's buffer, so its producer writes there directly; a concat whose
 *   inputs all sit side by side in one buffer becomes a view and runs no kernel (DenseNet's growing
 *   concats and the Inception branch concats all end up this way).</li>
 *   <li>Channels-last where it pays: a buffer is stored NHWC (logical shape still NCHW, see
 *   {@link Tensor#isChannelsLast()}) when every kernel that writes or reads any value in it declared
 *   it handles that ({@link org.deepfever.core.backend.Kernel#acceptsChannelsLast}); the channel-vector
 *   convs of the small-image stages then store whole vectors and read each pixel's channels as one
 *   line. Graph inputs and outputs stay NCHW.</li>
 *   <li>Buffers whose lifetimes do not overlap share space in one arena (greedy, largest first); the
 *   arena's size is the peak activation memory, known before the network runs.</li>
 * </ul>
 * A plan is used by one thread at a time; {@link CompiledGraph} pools them.
 */
public final class ExecutionPlan implements ExecContext {
    private final CompiledGraph compiled;
    /** The pool the kernels split their loops over: the graph's, or a one-thread pool for a batch lane. */
    private final ThreadPool pool;
    private final Graph graph;
    private final int batch;
    private final Shape[] shapes;
    private final int[] homeParent;   // value -> value whose buffer holds it, or -1
    private final int[] homeOffset;   // channel offset within the parent
    private final boolean[] skip;     // node -> concat fully aliased, nothing to run
    private int inPlaceOutputs;       // outputs homed in an input's buffer (planInPlace)
    private final boolean[] channelsLast; // root value -> buffer stored NHWC
    private final long[] arenaOffset; // root value -> offset in arena (floats), -1 for graph inputs
    private final long arenaFloats;
    private final float[] arena;
    private final float[] scratch;
    private final Tensor[] views;
    private final Tensor[][] nodeInputs;

    ExecutionPlan(CompiledGraph compiled, int batch, ThreadPool pool) {
        this.compiled = compiled;
        this.pool = pool;
        this.graph = compiled.graph();
        this.batch = batch;
        this.shapes = graph.inferShapes(batch);
        int values = graph.valueCount();
        List<Node> nodes = graph.nodes();
        int[] producer = new int[values];
        Arrays.fill(producer, -1);
        for (int i = 0; i < nodes.size(); i++) producer[nodes.get(i).output()] = i;
        boolean[] isOutput = new boolean[values];
        for (int v : graph.outputs().values()) isOutput[v] = true;

        homeParent = new int[values];
        homeOffset = new int[values];
        Arrays.fill(homeParent, -1);
        skip = new boolean[nodes.size()];
        planConcats(nodes, producer, isOutput);
        planInPlace(nodes, producer, isOutput);
        channelsLast = chooseChannelsLast(nodes, producer, isOutput);

        // Lifetimes (node indices) of every value, then merged onto root buffers.
        int[] first = new int[values], last = new int[values];
        for (int v = 0; v < values; v++) {
            first[v] = producer[v];
            last[v] = isOutput[v] ? nodes.size() : producer[v];
        }
        for (int i = 0; i < nodes.size(); i++) {
            for (int in : nodes.get(i).inputs()) last[in] = Math.max(last[in], i);
        }
        for (int v = 0; v < values; v++) {
            int r = root(v);
            if (r != v) {
                first[r] = Math.min(first[r], first[v]);
                last[r] = Math.max(last[r], last[v]);
            }
        }
        arenaOffset = new long[values];
        Arrays.fill(arenaOffset, -1);
        List<Integer> roots = new ArrayList<>();
        for (int v = 0; v < values; v++) if (root(v) == v && producer[v] >= 0) roots.add(v);
        roots.sort((a, b) -> Long.compare(shapes[b].size(), shapes[a].size()));
        long[] sizes = new long[values];
        for (int v : roots) sizes[v] = shapes[v].size();
        long peak = IntervalPacking.place(roots, sizes, first, last, arenaOffset);
        arenaFloats = peak;
        arena = new float[Math.toIntExact(peak)];

        // Views over the arena for every node-produced value; graph inputs are bound per call.
        views = new Tensor[values];
        Storage storage = new Storage.Heap(arena);
        for (int v = 0; v < values; v++) {
            if (producer[v] < 0) continue;
            int r = root(v);
            if (producer[r] < 0) continue;
            if (channelsLast[r]) {
                Shape rs = shapes[r];
                long c = rs.dim(1), w = rs.dim(3);
                long[] strides = {c * rs.dim(2) * w, 1, w * c, c};
                views[v] = new Tensor(shapes[v], strides, storage, arenaOffset[r] + channelOffset(v));
                continue;
            }
            long[] strides = shapes[r].contiguousStrides();
            long off = arenaOffset[r] + channelOffset(v) * (strides.length > 1 ? strides[1] : 1);
            views[v] = new Tensor(shapes[v], withInner(shapes[v], strides), storage, off);
        }
        long scratchSize = 0;
        nodeInputs = new Tensor[nodes.size()][];
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            nodeInputs[i] = new Tensor[n.inputCount()];
            scratchSize = Math.max(scratchSize, compiled.kernel(i).scratchFloats(inputShapes(n), shapes[n.output()], pool.threads()));
        }
        scratch = new float[Math.toIntExact(scratchSize)];
    }

    /** Strides of a view of {@code shape} inside a root buffer with {@code rootStrides}: batch stride of the root, the rest contiguous. */
    private static long[] withInner(Shape shape, long[] rootStrides) {
        long[] s = shape.contiguousStrides();
        if (s.length > 0) s[0] = rootStrides[0];
        return s;
    }

    /**
     * Per root buffer: whether it is stored channels-last. Yes when it is rank 4, holds no graph
     * output, every value in it is written by a kernel that can write channels-last (or is an elided
     * concat, a view) and every kernel reading any of its values accepts channels-last there.
     */
    private boolean[] chooseChannelsLast(List<Node> nodes, int[] producer, boolean[] isOutput) {
        int values = shapes.length;
        boolean[] cl = new boolean[values];
        for (int v = 0; v < values; v++) if (producer[v] >= 0 && root(v) == v) cl[v] = true;
        for (int v = 0; v < values; v++) {
            if (producer[v] < 0) continue;
            int p = producer[v];
            if (shapes[v].rank() != 4 || isOutput[v]
                    || !skip[p] && !compiled.kernel(p).writesChannelsLast(inputShapes(nodes.get(p)), shapes[v])) {
                cl[root(v)] = false;
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (skip[i]) continue;
            Node n = nodes.get(i);
            Shape[] in = inputShapes(n);
            for (int k = 0; k < n.inputCount(); k++) {
                int v = n.input(k);
                if (producer[v] >= 0 && !compiled.kernel(i).acceptsChannelsLast(k, in, shapes[n.output()])) cl[root(v)] = false;
            }
        }
        return cl;
    }

    private Shape[] inputShapes(Node n) {
        Shape[] in = new Shape[n.inputCount()];
        for (int k = 0; k < in.length; k++) in[k] = shapes[n.input(k)];
        return in;
    }

    private void planConcats(List<Node> nodes, int[] producer, boolean[] isOutput) {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (!(n.op() instanceof Concat c) || c.normalizedAxis(shapes[n.output()].rank()) != 1) continue;
            int out = n.output();
            int offset = 0;
            for (int k = 0; k < n.inputCount(); k++) {
                int v = n.input(k);
                boolean homeable = producer[v] >= 0 && homeParent[v] < 0 && !isOutput[v] && root(out) != v;
                if (homeable) {
                    homeParent[v] = out;
                    homeOffset[v] = offset;
                }
                offset += shapes[v].dim(1);
            }
        }
        // A concat whose inputs already sit contiguously in its own buffer needs no kernel.
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (!(n.op() instanceof Concat c) || c.normalizedAxis(shapes[n.output()].rank()) != 1) continue;
            boolean all = true;
            int offset = 0;
            for (int k = 0; k < n.inputCount(); k++) {
                int v = n.input(k);
                all &= homeParent[v] == n.output() && homeOffset[v] == offset;
                offset += shapes[v].dim(1);
            }
            skip[i] = all;
        }
        // Concats nested in a larger concat (DenseNet prefixes): a concat whose inputs were homed in
        // a bigger buffer at consecutive offsets becomes a view of that buffer too.
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (!(n.op() instanceof Concat c) || c.normalizedAxis(shapes[n.output()].rank()) != 1 || skip[i]) continue;
            int out = n.output();
            if (homeParent[out] >= 0 || isOutput[out]) continue;
            int parent = homeParent[n.input(0)];
            if (parent < 0 || parent == out) continue;
            int start = homeOffset[n.input(0)];
            int offset = start;
            boolean consecutive = true;
            for (int k = 0; k < n.inputCount(); k++) {
                int v = n.input(k);
                consecutive &= homeParent[v] == parent && homeOffset[v] == offset;
                offset += shapes[v].dim(1);
            }
            if (consecutive) {
                homeParent[out] = parent;
                homeOffset[out] = start;
                skip[i] = true;
            }
        }
    }

    /**
     * Outputs placed in the buffer of the input their kernel may overwrite ({@link
     * org.deepfever.core.backend.Kernel#inPlaceInput}: the residual of a fused residual conv) when
     * nothing reads that buffer after this node: the Inception-ResNet blocks then update their input
     * in place (one buffer read and written, as ONNX Runtime's conv with a fused sum does) instead of
     * reading one and writing another. The output becomes a full-width view of the input's buffer.
     */
    private void planInPlace(List<Node> nodes, int[] producer, boolean[] isOutput) {
        int values = shapes.length;
        // per root buffer, the last node reading any value in it (graph outputs: never free)
        int[] lastRead = new int[values];
        Arrays.fill(lastRead, -1);
        for (int i = 0; i < nodes.size(); i++) {
            for (int in : nodes.get(i).inputs()) lastRead[root(in)] = Math.max(lastRead[root(in)], i);
        }
        for (int v = 0; v < values; v++) if (isOutput[v]) lastRead[root(v)] = Integer.MAX_VALUE;
        for (int i = 0; i < nodes.size(); i++) {
            if (skip[i]) continue;
            Node n = nodes.get(i);
            int k = compiled.kernel(i).inPlaceInput(inputShapes(n), shapes[n.output()]);
            if (k < 0 || k >= n.inputCount()) continue;
            int in = n.input(k), out = n.output(), r = root(in);
            // the input must span its whole buffer (not a concat slice; an earlier in-place output is
            // fine), read by nobody after this node, shaped like the output, and no other input of
            // this node may live in it
            if (producer[r] < 0 || !shapes[r].equals(shapes[in]) || channelOffset(in) != 0
                    || homeParent[out] >= 0 || isOutput[out] || lastRead[r] != i || !shapes[in].equals(shapes[out])) continue;
            boolean shared = false;
            for (int j = 0; j < n.inputCount(); j++) shared |= j != k && root(n.input(j)) == r;
            if (shared) continue;
            homeParent[out] = in;
            homeOffset[out] = 0;
            lastRead[r] = lastRead[out]; // the buffer now lives as long as the output is read
            inPlaceOutputs++;
        }
    }

    /** Number of node outputs written in place over an input's buffer. */
    public int inPlaceOutputs() { return inPlaceOutputs; }

    private int root(int v) {
        while (homeParent[v] >= 0) v = homeParent[v];
        return v;
    }

    private long channelOffset(int v) {
        long off = 0;
        while (homeParent[v] >= 0) {
            off += homeOffset[v];
            v = homeParent[v];
        }
        return off;
    }

    public int batch() { return batch; }

    /** Peak activation memory of this plan in bytes (the arena; inputs and scratch not included). */
    public long peakActivationBytes() { return arenaFloats * 4; }

    public long scratchBytes() { return (long) scratch.length * 4; }

    public Shape shapeOf(int value) { return shapes[value]; }

    /** Number of values (node outputs) stored channels-last. */
    public int channelsLastValues() {
        int n = 0;
        for (int v = 0; v < shapes.length; v++) if (channelsLast[root(v)]) n++;
        return n;
    }

    /** Number of concat nodes that run no kernel because their inputs were written in place. */
    public int elidedConcats() {
        int n = 0;
        for (boolean s : skip) n += s ? 1 : 0;
        return n;
    }

    /**
     * Per node, in the order the nodes run, what runs it and how ({@link KernelChoice}): the kernels
     * describe themselves on this plan's views (graph inputs: NCHW tensors of their shapes).
     */
    public List<KernelChoice> kernelChoices() {
        List<Node> nodes = graph.nodes();
        List<KernelChoice> out = new ArrayList<>(nodes.size());
        int threads = pool.threads();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            Tensor[] in = new Tensor[n.inputCount()];
            for (int k = 0; k < in.length; k++) {
                Tensor v = views[n.input(k)];
                in[k] = v != null ? v : Tensor.zeros(shapes[n.input(k)].dims()); // a graph input, bound per call
            }
            Tensor o = views[n.output()];
            String layout = skip[i] ? "view" : layoutOf(in.length > 0 ? in[0] : null) + "->" + layoutOf(o);
            String kernel = skip[i] ? null : compiled.kernel(i).describe(in, o, threads);
            out.add(new KernelChoice(n.name(), n.op().kind(), compiled.backend(i).name(), in.length > 0 ? in[0].shape() : null,
                    o.shape(), layout, kernel));
        }
        return out;
    }

    private static String layoutOf(Tensor t) {
        return t == null ? "-" : t.isChannelsLast() ? "NHWC" : "NCHW";
    }

    @Override public ThreadPool pool() { return pool; }
    @Override public float[] scratch() { return scratch; }

    Map<String, Tensor> execute(Map<String, Tensor> inputs) {
        return execute(inputs, null);
    }

    /**
     * Runs every node. {@code observer}, when not null, sees each node's output right after it is
     * written (for intermediate "taps"); it must copy what it keeps.
     */
    public Map<String, Tensor> execute(Map<String, Tensor> inputs, java.util.function.BiConsumer<Node, Tensor> observer) {
        for (var e : graph.inputs().entrySet()) {
            Tensor t = inputs.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("missing input '" + e.getKey() + "'");
            Shape want = shapes[e.getValue()];
            if (!t.shape().equals(want)) {
                throw new IllegalArgumentException("input '" + e.getKey() + "': expected shape " + want + ", got " + t.shape());
            }
            views[e.getValue()] = t.isHeap() && t.isInnerContiguous() ? t : t.copy();
        }
        List<Node> nodes = graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (!skip[i]) {
                Tensor[] in = nodeInputs[i];
                for (int k = 0; k < in.length; k++) in[k] = views[n.input(k)];
                compiled.kernel(i).run(in, views[n.output()], this);
            }
            if (observer != null) observer.accept(n, views[n.output()]);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : graph.outputs().entrySet()) out.put(e.getKey(), views[e.getValue()].copy());
        return out;
    }
}
