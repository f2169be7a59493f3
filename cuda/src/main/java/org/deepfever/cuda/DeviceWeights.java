package org.deepfever.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.BatchNorm;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.Op;

/**
 * Every parameter of the device's nodes in one device buffer, uploaded once when the model is
 * compiled. A convolution's weights are its effective weights (a folded batch norm's or residual
 * scale's output scale applied, as the CPU kernels apply it while packing) and its bias (zeros when
 * it has none: the fused cuDNN call always adds one). Each parameter starts on a 256-byte boundary.
 */
final class DeviceWeights implements AutoCloseable {
    private final long[][] offsets; // node -> byte offset of each parameter, null for nodes without
    private final long bytes;
    private final DeviceBuffer buffer;

    /** Plans, allocates and uploads. @throws CudaException when allocation or the copy fails */
    DeviceWeights(Cudart cuda, Partition partition) {
        List<Node> nodes = partition.graph().nodes();
        offsets = new long[nodes.size()][];
        long at = 0;
        for (int i = 0; i < nodes.size(); i++) {
            if (!partition.onDevice(i)) continue;
            long[] sizes = sizes(nodes.get(i).op());
            if (sizes.length == 0) continue;
            offsets[i] = new long[sizes.length];
            for (int k = 0; k < sizes.length; k++) {
                offsets[i][k] = at;
                at += BufferPlan.align(sizes[k] * 4);
            }
        }
        bytes = at;
        buffer = new DeviceBuffer(cuda, bytes);
        try (Arena staging = Arena.ofConfined()) {
            MemorySegment host = staging.allocate(Math.max(1, bytes), 256);
            for (int i = 0; i < nodes.size(); i++) {
                if (offsets[i] == null) continue;
                float[][] params = values(nodes.get(i).op());
                for (int k = 0; k < params.length; k++) {
                    MemorySegment.copy(params[k], 0, host, ValueLayout.JAVA_FLOAT, offsets[i][k], params[k].length);
                }
            }
            cuda.memcpy(buffer.address(), host.address(), bytes, Cudart.MEMCPY_HOST_TO_DEVICE);
        } catch (RuntimeException e) {
            Closer.closeAll(e, buffer);
            throw e;
        }
    }

    /** Floats of each device parameter of {@code op}, in the order {@link #address} numbers them. */
    static long[] sizes(Op op) {
        return switch (op) {
            case Conv2d c -> new long[] {c.weight().size(), c.outChannels()};
            case BatchNorm b -> new long[] {b.channels(), b.channels(), b.channels(), b.channels()};
            case Gemm g -> g.bias() != null ? new long[] {g.weight().size(), g.outFeatures()} : new long[] {g.weight().size()};
            default -> new long[0];
        };
    }

    /** The parameter values: conv {effective weights, bias}, batch norm {gamma, beta, mean, var}, gemm {weight [out,in], bias}. */
    static float[][] values(Op op) {
        return switch (op) {
            case Conv2d c -> new float[][] {c.effectiveWeights(), c.bias() != null ? c.bias().toFloatArray() : new float[c.outChannels()]};
            case BatchNorm b -> new float[][] {b.gamma().toFloatArray(), b.beta().toFloatArray(), b.mean().toFloatArray(), b.var().toFloatArray()};
            case Gemm g -> g.bias() != null ? new float[][] {g.weight().toFloatArray(), g.bias().toFloatArray()} : new float[][] {g.weight().toFloatArray()};
            default -> new float[0][];
        };
    }

    /** Device address of parameter {@code param} of node {@code node}. @throws IllegalArgumentException when it has none */
    long address(int node, int param) {
        if (offsets[node] == null || param >= offsets[node].length) throw new IllegalArgumentException("node " + node + " has no device parameter " + param);
        return buffer.address() + offsets[node][param];
    }

    /** Whether node {@code node} has parameter {@code param} (a Gemm without bias has one). */
    boolean has(int node, int param) { return offsets[node] != null && param < offsets[node].length; }

    long bytes() { return bytes; }

    @Override public void close() { buffer.close(); }
}
