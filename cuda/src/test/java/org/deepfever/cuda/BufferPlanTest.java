package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deepfever.api.ModelFiles;
import org.deepfever.core.Shape;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.graph.Node;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.MaxPool2d;
import org.junit.jupiter.api.Test;

/** Device buffer placement: channel slices, elided concats, in-place residuals, lifetimes, alignment. */
class BufferPlanTest {
    /** An Inception branch pair: two convs and a pool concatenated, then a conv over the concat. */
    static Graph branches() {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", Shape.of(-1, 4, 9, 9));
        int a = g.add("a", Graphs.conv1x1(4, 3), x);
        int b = g.add("b", Graphs.conv(4, 5, 3, 1, 1, Activation.RELU), x);
        int p = g.add("p", new MaxPool2d(3, 3, 1, 1, 1, 1, 1, 1, false), x);
        int cat = g.add("cat", new Concat(1, 3), a, b, p);
        int y = g.add("y", Graphs.conv1x1(12, 2), cat);
        return g.output("out", y).build();
    }

    @Test
    void branchesWriteIntoTheirChannelSlices() {
        Graph g = branches();
        BufferPlan bp = new BufferPlan(Partition.of(g), 3, false);
        int a = 1, b = 2, p = 3, cat = 4;
        TensorLayout catL = bp.layout(cat);
        assertEquals(new TensorLayout(3, 12, 9, 9, 12 * 81, 81, 9, 1, catL.offset()), catL);
        assertEquals(new TensorLayout(3, 3, 9, 9, 12 * 81, 81, 9, 1, catL.offset()), bp.layout(a));
        assertEquals(new TensorLayout(3, 5, 9, 9, 12 * 81, 81, 9, 1, catL.offset() + 3 * 81), bp.layout(b));
        assertEquals(new TensorLayout(3, 4, 9, 9, 12 * 81, 81, 9, 1, catL.offset() + 8 * 81), bp.layout(p));
        assertTrue(bp.skipped(3), "the concat runs nothing");
        assertFalse(bp.layout(a).isPacked(), "a slice of a batch of 3 is strided");
        BufferPlan one = new BufferPlan(Partition.of(g), 1, false);
        assertEquals(1, one.elidedConcats());
    }

    @Test
    void aValueCopiedBackStaysWholeAndIsCopiedIntoTheConcat() {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", Shape.of(-1, 4, 5, 5));
        int a = g.add("a", Graphs.conv1x1(4, 3), x);
        int b = g.add("b", Graphs.conv1x1(4, 2), x);
        int cat = g.add("cat", new Concat(1, 2), a, b);
        Graph graph = g.output("a", a).output("cat", cat).build();
        BufferPlan bp = new BufferPlan(Partition.of(graph), 2, false);
        assertTrue(bp.layout(1).isPacked() && !bp.isHomed(1), "a is a graph output: a whole buffer of its own");
        assertTrue(bp.isHomed(2));
        assertFalse(bp.skipped(2));
        assertEquals(1, CudaPlan.concatCopiesOf("cat", List.of(bp.layout(1), bp.layout(2)), bp.layout(3)).parts().size());
    }

    @Test
    void denseNetPrefixesAreViewsOfTheLastConcat() {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", Shape.of(-1, 8, 4, 4));
        int r = g.add("reduce", Graphs.conv1x1(8, 6), x);
        List<Integer> feats = new ArrayList<>(List.of(r));
        int cat = r;
        for (int i = 0; i < 3; i++) {
            int y = g.add("layer" + i, Graphs.conv(6 + 2 * i, 2, 3, 1, 1, Activation.NONE), cat);
            feats.add(y);
            cat = g.add("cat" + i, new Concat(1, feats.size()), feats.stream().mapToInt(Integer::intValue).toArray());
        }
        int out = g.add("project", Graphs.conv1x1(12, 4), cat);
        Graph graph = g.output("out", out).build();
        BufferPlan bp = new BufferPlan(Partition.of(graph), 2, false);
        assertEquals(3, bp.elidedConcats());
        TensorLayout last = bp.layout(cat);
        for (int v = 1; v < graph.valueCount() - 1; v++) {
            TensorLayout l = bp.layout(v);
            assertEquals(last.nStride(), l.nStride(), graph.valueName(v) + " lives in the last concat's buffer");
        }
        assertEquals(last.offset() + 6 * 16, bp.layout(2).offset(), "layer0 sits after reduce's 6 channels");
    }

    /** conv chain with a residual conv at the end: x -> a -> b, out = relu(conv(b) + x). */
    static Graph residual(boolean xReadLater) {
        Graph.Builder g = Graph.builder();
        int in = g.input("input", Shape.of(-1, 4, 6, 6));
        int x = g.add("x", Graphs.conv1x1(4, 4), in);
        int a = g.add("a", Graphs.conv1x1(4, 4), x);
        Conv2d res = Graphs.conv1x1(4, 4).scaledBy(0.17f).withResidual(true);
        int r = g.add("res", res, a, x);
        if (xReadLater) {
            int late = g.add("late", Graphs.conv1x1(4, 4), x);
            g.output("late", late);
        }
        return g.output("out", g.add("after", Graphs.conv1x1(4, 4), r)).build();
    }

    @Test
    void residualWritesOverItsInputOnlyWhenAskedAndWhenNothingReadsItLater() {
        assertEquals(0, new BufferPlan(Partition.of(residual(false)), 2, false).inPlaceOutputs());
        BufferPlan bp = new BufferPlan(Partition.of(residual(false)), 2, true);
        assertEquals(1, bp.inPlaceOutputs());
        assertEquals(bp.layout(1), bp.layout(3), "res lives in x's buffer");
        assertEquals(0, new BufferPlan(Partition.of(residual(true)), 2, true).inPlaceOutputs());
    }

    @Test
    void buffersAreReusedAndAligned() {
        Graph.Builder g = Graph.builder();
        int v = g.input("input", Shape.of(-1, 8, 8, 8));
        for (int i = 0; i < 6; i++) v = g.add("c" + i, Graphs.conv1x1(8, 8), v);
        Graph graph = g.output("out", v).build();
        BufferPlan bp = new BufferPlan(Partition.of(graph), 3, false);
        long one = BufferPlan.align(3 * 8 * 8 * 8 * 4L);
        assertTrue(bp.arenaBytes() <= 3 * one, "a chain needs input + two alternating buffers, got " + bp.arenaBytes());
        for (int i = 0; i < graph.valueCount(); i++) assertEquals(0, bp.layout(i).offset() * 4 % BufferPlan.ALIGN);
    }

    /** No two buffers alive at the same node share bytes: checked on the full-size DeepFEVER graph at several batch sizes. */
    @Test
    void liveBuffersNeverOverlapInDeepFever() {
        try (ModelFiles.Loaded m = ModelFiles.untrainedDefault()) {
            Graph graph = m.graph();
            Partition p = Partition.of(graph);
            for (int batch : new int[] {1, 4, 64}) {
                for (boolean inPlace : new boolean[] {false, true}) checkNoOverlap(graph, p, new BufferPlan(p, batch, inPlace));
            }
            BufferPlan bp = new BufferPlan(p, 1, false);
            assertTrue(bp.elidedConcats() >= 20, "Inception and DenseNet concats elided: " + bp.elidedConcats());
            assertEquals(1, p.hostNodes(), "only the L2 normalisation runs on the host");
        }
    }

    private static void checkNoOverlap(Graph graph, Partition p, BufferPlan bp) {
        List<Node> nodes = graph.nodes();
        int values = graph.valueCount(), end = nodes.size();
        int[] first = new int[values], last = new int[values];
        Arrays.fill(first, Integer.MAX_VALUE);
        Arrays.fill(last, Integer.MIN_VALUE);
        for (int v : graph.inputs().values()) first[v] = -1;
        for (int i = 0; i < nodes.size(); i++) {
            if (!p.onDevice(i)) continue;
            Node n = nodes.get(i);
            first[n.output()] = Math.min(first[n.output()], i);
            last[n.output()] = Math.max(last[n.output()], i);
            for (int in : n.inputs()) last[in] = Math.max(last[in], i);
        }
        for (int v = 0; v < values; v++) if (p.boundary(v)) last[v] = end;
        // per root: the union of its values' lifetimes and its byte range
        long[][] range = new long[values][];
        int[] rf = new int[values], rl = new int[values];
        Arrays.fill(rf, Integer.MAX_VALUE);
        Arrays.fill(rl, Integer.MIN_VALUE);
        for (int v = 0; v < values; v++) {
            if (!p.deviceValue(v)) continue;
            int r = bp.root(v);
            rf[r] = Math.min(rf[r], first[v]);
            rl[r] = Math.max(rl[r], last[v]);
            TensorLayout l = bp.layout(r);
            range[r] = new long[] {l.offset() * 4, l.offset() * 4 + l.n() * l.rowBytes()};
            TensorLayout lv = bp.layout(v);
            long endV = lv.offset() * 4 + (long) (lv.n() - 1) * lv.pitchBytes() + lv.rowBytes();
            assertTrue(lv.offset() * 4 >= range[r][0] && endV <= range[r][1], graph.valueName(v) + " inside its root");
        }
        for (int a = 0; a < values; a++) {
            for (int b = a + 1; b < values; b++) {
                if (range[a] == null || range[b] == null) continue;
                boolean time = rf[a] <= rl[b] && rf[b] <= rl[a];
                boolean space = range[a][0] < range[b][1] && range[b][0] < range[a][1];
                assertFalse(time && space, graph.valueName(a) + " and " + graph.valueName(b) + " overlap while both live (batch " + bp.batch() + ")");
                assertTrue(range[a][1] <= bp.arenaBytes() && range[b][1] <= bp.arenaBytes());
            }
        }
    }
}
