package org.deepfever.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.BatchNorm;
import org.deepfever.core.op.Binary;
import org.deepfever.core.op.Clip;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Flatten;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.GlobalAvgPool;
import org.deepfever.core.op.Identity;
import org.deepfever.core.op.MaxPool2d;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.Reshape;
import org.deepfever.core.op.ResidualAdd;
import org.deepfever.core.op.Sigmoid;

/**
 * Everything one batch size needs on the device: the buffer plan, one {@link Step} per device node
 * (descriptors made, algorithms chosen), the workspace and staging sizes, and pinned host buffers
 * for the inputs and for the values copied back. A run copies the inputs in, queues every step, copies
 * the results out, and synchronises once.
 */
final class CudaPlan implements AutoCloseable {
    private final CudaContext ctx;
    private final BufferPlan buffers;
    private final List<Step> steps;
    private final long workspaceBytes, stagingBytes;
    private final List<Transfer> in, out;
    private final Owned pinnedIn, pinnedOut;

    /** A graph input or a copied-back value: its name, value, layout in the arena and offset in the pinned buffer. */
    record Transfer(String name, int value, TensorLayout layout, long pinnedOffset) {}

    /**
     * Builds the plan for {@code batch} (the arena must already be at least {@code buffers.arenaBytes()}).
     *
     * @throws CudaException when a descriptor, search or allocation fails (what was made is released)
     */
    CudaPlan(CudaContext ctx, Partition partition, BufferPlan buffers, PlanBuilder builder) {
        this.ctx = ctx;
        this.buffers = buffers;
        Graph graph = partition.graph();
        List<Step> made = new ArrayList<>();
        Owned pi = null, po = null;
        try {
            List<Node> nodes = graph.nodes();
            for (int i = 0; i < nodes.size(); i++) {
                if (!partition.onDevice(i) || buffers.skipped(i)) continue;
                Step s = step(builder, i, nodes.get(i));
                if (s != null) made.add(s);
            }
            long ws = 0, st = 0;
            for (Step s : made) {
                ws = Math.max(ws, s.workspaceBytes());
                st = Math.max(st, s.stagingBytes());
            }
            workspaceBytes = ws;
            stagingBytes = st;
            List<Transfer> ins = new ArrayList<>(), outs = new ArrayList<>();
            long at = 0;
            for (var e : graph.inputs().entrySet()) {
                if (!partition.deviceValue(e.getValue())) continue;
                TensorLayout l = buffers.layout(e.getValue());
                ins.add(new Transfer(e.getKey(), e.getValue(), l, at));
                at += BufferPlan.align(l.n() * l.rowBytes());
            }
            pi = pinned(ctx, at);
            at = 0;
            for (int v = 0; v < graph.valueCount(); v++) {
                if (!partition.boundary(v)) continue;
                TensorLayout l = buffers.layout(v);
                outs.add(new Transfer(graph.valueName(v), v, l, at));
                at += BufferPlan.align(l.n() * l.rowBytes());
            }
            po = pinned(ctx, at);
            in = List.copyOf(ins);
            out = List.copyOf(outs);
        } catch (RuntimeException e) {
            Closer.closeAll(e, po, pi);
            Closer.closeAll(e, made.toArray(AutoCloseable[]::new));
            throw e;
        }
        steps = List.copyOf(made);
        pinnedIn = pi;
        pinnedOut = po;
    }

    private static Owned pinned(CudaContext ctx, long bytes) {
        MemorySegment m = ctx.cuda.hostAlloc(Math.max(bytes, 256));
        return new Owned("pinned host buffer of " + bytes + " bytes", m, ctx.cuda::freeHost);
    }

    private Step step(PlanBuilder b, int i, Node n) {
        TensorLayout y = buffers.layout(n.output());
        return switch (n.op()) {
            case Conv2d c -> new ConvStep(b, i, n.name(), c, buffers.layout(n.input(0)), y, c.residual() ? buffers.layout(n.input(1)) : null);
            case MaxPool2d p -> PoolStep.max(ctx, n.name(), p, buffers.layout(n.input(0)), y);
            case GlobalAvgPool g -> PoolStep.globalAverage(ctx, n.name(), g, buffers.layout(n.input(0)), y);
            case BatchNorm bn -> new BatchNormStep(ctx, b.weights(), i, n.name(), bn, buffers.layout(n.input(0)), y);
            case Relu r -> new ActivationStep(ctx, n.name(), r, buffers.layout(n.input(0)), y);
            case Sigmoid s -> new ActivationStep(ctx, n.name(), s, buffers.layout(n.input(0)), y);
            case Clip c -> new ActivationStep(ctx, n.name(), c, buffers.layout(n.input(0)), y);
            case ResidualAdd r -> OpTensorStep.residualAdd(ctx, n.name(), r, buffers.layout(n.input(0)), buffers.layout(n.input(1)), y);
            case Binary bin -> {
                Shape outShape = buffers.shape(n.output());
                boolean in0Full = buffers.shape(n.input(0)).equals(outShape);
                yield OpTensorStep.binary(ctx, n.name(), bin, operand(n.input(0), outShape), in0Full, operand(n.input(1), outShape), y);
            }
            case Gemm g -> new GemmStep(ctx, b.weights(), i, n.name(), g, buffers.layout(n.input(0)), y);
            case Flatten f -> new CopyStep(n.name(), List.of(new CopyStep.Part(y, buffers.layout(n.input(0)))));
            case Reshape r -> new CopyStep(n.name(), List.of(new CopyStep.Part(y, buffers.layout(n.input(0)))));
            case Identity id -> new CopyStep(n.name(), List.of(new CopyStep.Part(y, buffers.layout(n.input(0)))));
            case Concat c -> concatCopies(n, y);
            default -> throw new IllegalStateException("node " + n.name() + ": " + n.op().kind() + " was placed on the device but has no step");
        };
    }

    /** An operand of a broadcasting op as cuDNN's op-tensor wants it: the output's rank, dims of 1 where it broadcasts. */
    private TensorLayout operand(int v, Shape out) {
        TensorLayout l = buffers.layout(v);
        Shape s = buffers.shape(v);
        if (s.equals(out)) return l;
        if (!l.isPacked()) throw new IllegalStateException("a broadcast operand must be a whole buffer, got " + l);
        return TensorLayout.packed(DeviceSupport.leftPad(s, out.rank()), l.offset());
    }

    /** Copies of the inputs not already in their channel slice; null when every input is there. */
    static CopyStep concatCopiesOf(String node, List<TensorLayout> inputs, TensorLayout out) {
        List<CopyStep.Part> parts = new ArrayList<>();
        int offset = 0;
        for (TensorLayout src : inputs) {
            TensorLayout slice = new TensorLayout(out.n(), src.c(), out.h(), out.w(), out.nStride(), out.cStride(), out.hStride(), out.wStride(),
                    out.offset() + (long) offset * out.cStride());
            if (!slice.equals(src)) parts.add(new CopyStep.Part(slice, src));
            offset += src.c();
        }
        return parts.isEmpty() ? null : new CopyStep(node, parts);
    }

    private CopyStep concatCopies(Node n, TensorLayout y) {
        List<TensorLayout> ins = new ArrayList<>();
        for (int v : n.inputs()) ins.add(buffers.layout(v));
        return concatCopiesOf(n.name(), ins, y);
    }

    long workspaceBytes() { return workspaceBytes; }
    long stagingBytes() { return stagingBytes; }
    BufferPlan buffers() { return buffers; }
    List<Step> steps() { return steps; }

    /**
     * One run of {@code n <= batch} items: inputs by name (rows past {@code n} are zeros), results
     * (the copied-back values, {@code n} rows each) by value id.
     */
    Map<Integer, Tensor> run(Map<String, Tensor> inputs, int n, Step.Exec e) {
        int batch = buffers.batch();
        MemorySegment pin = pinnedIn.get(), pout = pinnedOut.get();
        for (Transfer t : in) {
            Tensor src = inputs.get(t.name());
            long per = t.layout().perImage();
            MemorySegment dst = pin.asSlice(t.pinnedOffset(), batch * per * 4);
            if (src.isHeap() && src.isContiguous()) {
                MemorySegment.copy(src.array(), src.arrayOffset(), dst, ValueLayout.JAVA_FLOAT, 0, Math.toIntExact(n * per));
            } else {
                MemorySegment.copy(src.toFloatArray(), 0, dst, ValueLayout.JAVA_FLOAT, 0, Math.toIntExact(n * per));
            }
            if (n < batch) dst.asSlice(n * per * 4).fill((byte) 0);
            ctx.cuda.memcpyAsync(t.layout().address(e.arena()), pin.address() + t.pinnedOffset(), batch * per * 4, Cudart.MEMCPY_HOST_TO_DEVICE, ctx.stream());
        }
        for (Step s : steps) s.enqueue(e);
        for (Transfer t : out) {
            ctx.cuda.memcpyAsync(pout.address() + t.pinnedOffset(), t.layout().address(e.arena()), n * t.layout().rowBytes(),
                    Cudart.MEMCPY_DEVICE_TO_HOST, ctx.stream());
        }
        ctx.synchronize();
        Map<Integer, Tensor> results = new LinkedHashMap<>();
        for (Transfer t : out) {
            float[] a = new float[Math.toIntExact(n * t.layout().perImage())];
            MemorySegment.copy(pout, ValueLayout.JAVA_FLOAT, t.pinnedOffset(), a, 0, a.length);
            results.put(t.value(), Tensor.of(a, buffers.shape(t.value()).withDim(0, n).dims()));
        }
        return results;
    }

    @Override
    public void close() {
        List<AutoCloseable> all = new ArrayList<>(steps);
        all.add(pinnedIn);
        all.add(pinnedOut);
        Closer.closeAll(null, all.toArray(AutoCloseable[]::new));
    }
}
