package org.deepfever.cuda;

import org.deepfever.core.exec.IntervalPacking;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deepfever.core.Shape;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.Conv2d;

/**
 * Device activation memory for one batch size, planned on the host before anything runs, the way
 * the CPU executor plans its heap arena ({@link org.deepfever.core.exec.ExecutionPlan}):
 * <ul>
 *   <li>Concat on the channel axis without copies: each input a device node produces is placed in
 *   its channel slice of the concat's buffer, so its producer writes there (a strided cuDNN tensor);
 *   a concat whose inputs all sit side by side runs nothing, nested DenseNet prefixes included.</li>
 *   <li>Optionally ({@code inPlaceResidual}) a residual convolution writes over its residual input
 *   when nothing reads that buffer later (cuDNN's z and y then alias).</li>
 *   <li>Buffers whose lifetimes do not overlap share space in one arena (greedy, largest first,
 *   256-byte aligned); graph inputs and the values copied back (graph outputs, inputs of host nodes)
 *   are whole packed buffers.</li>
 * </ul>
 */
final class BufferPlan {
    /** Alignment of every buffer in the arena (cudaMalloc's; cuDNN and cuBLAS want at least 16). */
    static final long ALIGN = 256;

    private final int batch;
    private final Shape[] shapes;
    private final int[] homeParent;   // value -> value whose buffer holds it, or -1
    private final int[] homeOffset;   // channel offset within the parent
    private final boolean[] skip;     // node -> concat fully aliased, nothing to run
    private final long[] rootOffset;  // root value -> byte offset in the arena, -1 when not on the device
    private final long arenaBytes;
    private int inPlace;

    /**
     * Plans {@code partition}'s device values for {@code batch}.
     *
     * @throws IllegalArgumentException when the graph's shapes fail for this batch
     */
    BufferPlan(Partition partition, int batch, boolean inPlaceResidual) {
        Graph graph = partition.graph();
        this.batch = batch;
        this.shapes = graph.inferShapes(batch);
        int values = graph.valueCount();
        List<Node> nodes = graph.nodes();
        int[] producer = new int[values];
        Arrays.fill(producer, -1);
        for (int i = 0; i < nodes.size(); i++) if (partition.onDevice(i)) producer[nodes.get(i).output()] = i;
        boolean[] whole = new boolean[values]; // must stay a whole packed buffer: copied back to the host
        for (int v = 0; v < values; v++) whole[v] = partition.boundary(v);

        homeParent = new int[values];
        homeOffset = new int[values];
        Arrays.fill(homeParent, -1);
        skip = new boolean[nodes.size()];
        planConcats(partition, nodes, producer, whole);
        if (inPlaceResidual) planInPlace(partition, nodes, producer, whole);

        int end = nodes.size();
        int[] first = new int[values], last = new int[values];
        Arrays.fill(first, Integer.MAX_VALUE);
        Arrays.fill(last, Integer.MIN_VALUE);
        for (int v : graph.inputs().values()) {
            if (partition.deviceValue(v)) first[v] = -1;
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (!partition.onDevice(i)) continue;
            Node n = nodes.get(i);
            first[n.output()] = Math.min(first[n.output()], i);
            last[n.output()] = Math.max(last[n.output()], i);
            for (int in : n.inputs()) last[in] = Math.max(last[in], i);
        }
        for (int v = 0; v < values; v++) if (whole[v]) last[v] = end;
        for (int v = 0; v < values; v++) {
            if (!partition.deviceValue(v)) continue;
            int r = root(v);
            if (r != v) {
                first[r] = Math.min(first[r], first[v]);
                last[r] = Math.max(last[r], last[v]);
            }
        }
        rootOffset = new long[values];
        Arrays.fill(rootOffset, -1);
        List<Integer> roots = new ArrayList<>();
        for (int v = 0; v < values; v++) if (partition.deviceValue(v) && root(v) == v) roots.add(v);
        roots.sort((a, b) -> Long.compare(shapes[b].size(), shapes[a].size()));
        long[] sizes = new long[values];
        for (int v : roots) sizes[v] = align(shapes[v].size() * 4);
        long peak = IntervalPacking.place(roots, sizes, first, last, rootOffset);
        arenaBytes = peak;
    }

    static long align(long bytes) { return Math.ceilDiv(bytes, ALIGN) * ALIGN; }

    private void planConcats(Partition partition, List<Node> nodes, int[] producer, boolean[] whole) {
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (!isChannelConcat(partition, i, n)) continue;
            int out = n.output();
            int offset = 0;
            for (int k = 0; k < n.inputCount(); k++) {
                int v = n.input(k);
                if (producer[v] >= 0 && homeParent[v] < 0 && !whole[v] && root(out) != v) {
                    homeParent[v] = out;
                    homeOffset[v] = offset;
                }
                offset += shapes[v].dim(1);
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (!isChannelConcat(partition, i, n)) continue;
            boolean all = true;
            int offset = 0;
            for (int k = 0; k < n.inputCount(); k++) {
                int v = n.input(k);
                all &= homeParent[v] == n.output() && homeOffset[v] == offset;
                offset += shapes[v].dim(1);
            }
            skip[i] = all;
        }
        // concats nested in a larger one (DenseNet prefixes) become views of it
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (!isChannelConcat(partition, i, n) || skip[i]) continue;
            int out = n.output();
            if (homeParent[out] >= 0 || whole[out]) continue;
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

    private boolean isChannelConcat(Partition partition, int i, Node n) {
        return partition.onDevice(i) && n.op() instanceof Concat c && c.normalizedAxis(shapes[n.output()].rank()) == 1;
    }

    /** A residual conv's output over its residual input (input 1), when nothing reads that buffer after it. */
    private void planInPlace(Partition partition, List<Node> nodes, int[] producer, boolean[] whole) {
        int values = shapes.length;
        int[] lastRead = new int[values];
        Arrays.fill(lastRead, -1);
        for (int i = 0; i < nodes.size(); i++) {
            for (int in : nodes.get(i).inputs()) lastRead[root(in)] = Math.max(lastRead[root(in)], partition.onDevice(i) ? i : Integer.MAX_VALUE);
        }
        for (int v = 0; v < values; v++) if (whole[v]) lastRead[root(v)] = Integer.MAX_VALUE;
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (!partition.onDevice(i) || !(n.op() instanceof Conv2d c) || !c.residual()) continue;
            int in = n.input(1), out = n.output(), r = root(in);
            if (producer[r] < 0 || !shapes[r].equals(shapes[in]) || channelOffset(in) != 0 || homeParent[out] >= 0 || whole[out]
                    || lastRead[r] != i || !shapes[in].equals(shapes[out]) || root(n.input(0)) == r) continue;
            homeParent[out] = in;
            homeOffset[out] = 0;
            lastRead[r] = lastRead[out];
            inPlace++;
        }
    }

    int root(int v) {
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

    /**
     * Where value {@code v} lives: its dims, the strides of its root buffer (a channel slice keeps
     * the concat's batch stride) and its element offset in the arena.
     *
     * @throws IllegalArgumentException when {@code v} has no device memory
     */
    TensorLayout layout(int v) {
        int r = root(v);
        if (rootOffset[r] < 0) throw new IllegalArgumentException("value " + v + " has no device memory");
        TensorLayout rootLayout = TensorLayout.packed(shapes[r], rootOffset[r] / 4);
        int[] d = TensorLayout.dims4(shapes[v]);
        return new TensorLayout(d[0], d[1], d[2], d[3], rootLayout.nStride(), rootLayout.cStride(), rootLayout.hStride(), rootLayout.wStride(),
                rootLayout.offset() + channelOffset(v) * rootLayout.cStride());
    }

    /** Whether {@code v} shares its root's memory with other values (a concat slice or an in-place output). */
    boolean isHomed(int v) { return homeParent[v] >= 0; }

    /** Whether concat node {@code node} runs nothing: its inputs were written in place. */
    boolean skipped(int node) { return skip[node]; }

    int batch() { return batch; }

    Shape shape(int v) { return shapes[v]; }

    /** Bytes of device memory the activations need (the arena). */
    long arenaBytes() { return arenaBytes; }

    /** Residual convolutions planned to write over their residual input. */
    int inPlaceOutputs() { return inPlace; }

    /** Concats that run nothing. */
    int elidedConcats() {
        int n = 0;
        for (boolean s : skip) n += s ? 1 : 0;
        return n;
    }
}
