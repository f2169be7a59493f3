package org.deepfever.cuda;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.exec.GraphExecutor;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;

/**
 * A graph compiled for one GPU. At compile time the graph is split ({@link Partition}), the weights
 * are uploaded once ({@link DeviceWeights}) and the batch-1 plan is built (so that an unsupported
 * shape or a failing library shows at load). Each run picks the plan of its batch bucket
 * ({@link BatchBuckets}; built and cached on first use, at most {@link CudaConfig#plans}), copies
 * the inputs into pinned memory and onto the device, queues every step on one stream, copies back
 * the outputs and synchronises once; a host tail, if any, runs after. Runs are serialised (one
 * stream, one set of buffers); concurrent callers wait their turn.
 */
final class CudaGraphExecutor implements GraphExecutor {
    private final Graph graph;
    private final Partition partition;
    private final CudaConfig settings;
    private final CudaContext ctx;
    private final DeviceWeights weights;
    private final DeviceMemory arena, workspace, staging;
    private final HostTail tail;
    private final long workspaceLimit;
    private final Map<ConvAlgo.Key, Optional<ConvAlgo.Choice>> algorithms = new ConcurrentHashMap<>();
    private final LinkedHashMap<Integer, CudaPlan> plans = new LinkedHashMap<>(16, 0.75f, true);
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    /**
     * Compiles {@code graph} for GPU {@code device}.
     *
     * @throws UnsupportedOperationException when a convolution cannot run on the device
     * @throws CudaException when a CUDA, cuBLAS or cuDNN call fails (everything made so far is released)
     */
    CudaGraphExecutor(CudaLibraries libs, int device, Graph graph, int threads, CudaConfig settings) {
        this.graph = graph;
        this.settings = settings;
        this.partition = Partition.of(graph);
        CudaContext c = null;
        DeviceWeights w = null;
        DeviceMemory a = null, ws = null, st = null;
        HostTail t = null;
        try {
            c = new CudaContext(libs, device);
            long free = c.cuda.memInfo()[0];
            workspaceLimit = Math.max(1 << 20, Math.min(settings.workspaceLimitBytes(), free / 4));
            w = new DeviceWeights(c.cuda, partition);
            a = new DeviceMemory(c.cuda, "activation arena");
            ws = new DeviceMemory(c.cuda, "cuDNN workspace");
            st = new DeviceMemory(c.cuda, "staging area");
            t = HostTail.of(partition, threads);
        } catch (RuntimeException e) {
            Closer.closeAll(e, t, st, ws, a, w, c);
            throw e;
        }
        ctx = c;
        weights = w;
        arena = a;
        workspace = ws;
        staging = st;
        tail = t;
        lock.lock();
        try {
            plan(1);
        } catch (RuntimeException e) {
            close();
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** The plan for {@code batch} (a bucket size), built on first use; the least recently used beyond the limit is closed. */
    private CudaPlan plan(int batch) {
        CudaPlan p = plans.get(batch);
        if (p != null) return p;
        ctx.bind();
        BufferPlan buffers = new BufferPlan(partition, batch, settings.inPlaceResidual());
        arena.ensure(buffers.arenaBytes());
        try (PlanBuilder builder = new PlanBuilder(ctx, weights, arena, staging, algorithms, workspaceLimit)) {
            p = new CudaPlan(ctx, partition, buffers, builder);
        }
        try {
            workspace.ensure(p.workspaceBytes());
            staging.ensure(p.stagingBytes());
        } catch (RuntimeException e) {
            Closer.closeAll(e, p);
            throw e;
        }
        plans.put(batch, p);
        if (plans.size() > settings.plans()) {
            var eldest = plans.entrySet().iterator().next();
            plans.remove(eldest.getKey());
            eldest.getValue().close();
        }
        return p;
    }

    @Override
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        int n = checkInputs(inputs);
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("the cuda executor is closed");
            ctx.bind();
            CudaPlan p = plan(BatchBuckets.bucket(n));
            Step.Exec e = new Step.Exec(ctx, arena.address(), workspace.bytes() == 0 ? 0 : workspace.address(), workspace.bytes(),
                    staging.bytes() == 0 ? 0 : staging.address());
            Map<Integer, Tensor> back;
            try {
                back = p.run(inputs, n, e);
            } catch (RuntimeException failure) {
                drain(failure);
                throw failure;
            }
            Map<String, Tensor> hostOut = tail == null ? Map.of() : tail.run(back, inputs);
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (var o : graph.outputs().entrySet()) {
                Tensor t = back.get(o.getValue());
                if (t == null) t = hostOut.get(o.getKey());
                if (t == null) t = inputs.get(graph.valueName(o.getValue())).copy(); // an input passed straight through
                out.put(o.getKey(), t);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Waits for work queued before a failed call, so that the next run starts on an idle stream. */
    private void drain(RuntimeException failure) {
        try {
            ctx.synchronize();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** The batch size; @throws IllegalArgumentException naming a missing input or a wrong shape */
    private int checkInputs(Map<String, Tensor> inputs) {
        int n = -1;
        for (var e : graph.inputs().entrySet()) {
            Tensor t = inputs.get(e.getKey());
            if (t == null) throw new IllegalArgumentException("missing input '" + e.getKey() + "'");
            Shape want = graph.inputShapes().get(e.getKey());
            if (n < 0) n = t.dim(0);
            Shape expect = want.dim(0) < 0 ? want.withDim(0, n) : want;
            if (!t.shape().equals(expect) || n < 1) {
                throw new IllegalArgumentException("input '" + e.getKey() + "': expected shape " + expect + ", got " + t.shape());
            }
        }
        return n;
    }

    @Override
    public Map<String, String> backendByNode() {
        Map<String, String> m = new LinkedHashMap<>();
        Map<String, String> host = tail == null ? Map.of() : tail.backendByNode();
        List<Node> nodes = graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            String name = nodes.get(i).name();
            m.put(name, partition.onDevice(i) ? CudaDevice.NAME : host.getOrDefault(name, "cpu"));
        }
        return m;
    }

    /** The device arena of the plan a run of {@code batch} items uses (its bucket), in bytes; host arithmetic only. */
    @Override
    public long peakActivationBytes(int batch) {
        return new BufferPlan(partition, BatchBuckets.bucket(batch), settings.inPlaceResidual()).arenaBytes();
    }

    /** Bytes of weights on the device. */
    long weightBytes() { return weights.bytes(); }

    /** The cached plan for {@code batch}'s bucket, built if needed (tests look at its steps). */
    CudaPlan planFor(int batch) {
        lock.lock();
        try {
            return plan(BatchBuckets.bucket(batch));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            try {
                ctx.bind();
                ctx.synchronize();
            } catch (RuntimeException e) {
                // closing anyway: free what can be freed
            }
            List<AutoCloseable> all = new java.util.ArrayList<>(plans.values());
            plans.clear();
            all.add(staging);
            all.add(workspace);
            all.add(arena);
            all.add(weights);
            all.add(tail);
            all.add(ctx);
            Closer.closeAll(null, all.toArray(AutoCloseable[]::new));
        } finally {
            lock.unlock();
        }
    }
}
