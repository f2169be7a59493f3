package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.deepfever.core.Shape;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.BatchNorm;
import org.deepfever.core.op.Binary;
import org.deepfever.core.op.Clip;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.GlobalAvgPool;
import org.deepfever.core.op.L2Normalize;
import org.deepfever.core.op.MaxPool2d;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.Softmax;
import org.junit.jupiter.api.Test;

/** What runs where, and which ops the device takes, without a GPU. */
class PlanningTest {
    @Test
    void supportNamesWhatCuDnnCannotDo() {
        Shape x = Shape.of(1, 4, 9, 9);
        Conv2d asym = new Conv2d(Graphs.random(1, 4, 4, 3, 3), null, 1, 1, 0, 0, 1, 1, 1, 1, 1, Activation.NONE, false);
        assertTrue(DeviceSupport.whyNot(asym, new Shape[] {x}, asym.outputShape(x)).contains("asymmetric padding"));
        Conv2d depthwise = new Conv2d(Graphs.random(2, 4, 1, 3, 3), null, 2, 2, 1, 1, 1, 1, 1, 1, 4, Activation.RELU, false);
        assertNull(DeviceSupport.whyNot(depthwise, new Shape[] {x}, depthwise.outputShape(x)));
        MaxPool2d ceil = new MaxPool2d(3, 3, 2, 2, 0, 0, 0, 0, true);
        Shape x10 = Shape.of(1, 4, 10, 10); // floor gives 4, ceil 5
        assertTrue(DeviceSupport.whyNot(ceil, new Shape[] {x10}, ceil.outputShape(x10)).contains("ceil-mode"));
        Shape x9 = Shape.of(1, 4, 9, 9);    // both give 4
        assertNull(DeviceSupport.whyNot(ceil, new Shape[] {x9}, ceil.outputShape(x9)));
        assertNull(DeviceSupport.whyNot(new Clip(0, 6), new Shape[] {x}, x));
        assertTrue(DeviceSupport.whyNot(new Clip(-1, 1), new Shape[] {x}, x).contains("clip(0, max)"));
        assertTrue(DeviceSupport.whyNot(new Binary(Binary.Fn.DIV), new Shape[] {x, x}, x).contains("division"));
        assertNull(DeviceSupport.whyNot(Binary.add(), new Shape[] {Shape.of(4, 1, 1), x}, x), "ADD swaps a broadcast first operand");
        assertTrue(DeviceSupport.whyNot(new Binary(Binary.Fn.SUB), new Shape[] {Shape.of(4, 1, 1), x}, x) != null);
        assertNull(DeviceSupport.whyNot(new Binary(Binary.Fn.SUB), new Shape[] {x, Shape.of(4, 1, 1)}, x));
        assertTrue(DeviceSupport.whyNot(L2Normalize.of(), new Shape[] {Shape.of(1, 8)}, Shape.of(1, 8)).contains("no cuDNN"));
        assertTrue(DeviceSupport.whyNot(new Concat(2, 2), new Shape[] {x, x}, Shape.of(1, 4, 18, 9)).contains("axis 2"));
    }

    @Test
    void broadcastPadsFromTheLeft() {
        assertEquals(Shape.of(1, 4, 1, 1), DeviceSupport.leftPad(Shape.of(4, 1, 1), 4));
        assertTrue(DeviceSupport.broadcastsInto(Shape.of(4, 1, 1), Shape.of(2, 4, 5, 5)));
        assertFalse(DeviceSupport.broadcastsInto(Shape.of(4, 5), Shape.of(2, 4, 5, 6)));
    }

    /** conv -> pool -> gemm heads, one of them L2-normalised: the tail of DeepFEVER. */
    static Graph headGraph() {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", Shape.of(-1, 3, 12, 12));
        int c = g.add("conv", Graphs.conv(3, 8, 3, 1, 1, Activation.RELU), x);
        int f = g.add("features", new GlobalAvgPool(false), c);
        int e = g.add("fec", new Gemm(Graphs.random(5, 4, 8), Graphs.random(6, 4)), f);
        int emb = g.add("embedding", L2Normalize.of(), e);
        int logits = g.add("logits", new Gemm(Graphs.random(7, 3, 8), null), f);
        return g.output("features", f).output("embedding", emb).output("logits", logits).build();
    }

    @Test
    void tailOfCheapOpsGoesToTheHost() {
        Graph g = headGraph();
        Partition p = Partition.of(g);
        assertEquals(1, p.hostNodes());
        assertTrue(p.onDevice(0) && p.onDevice(1) && p.onDevice(2) && p.onDevice(4));
        assertFalse(p.onDevice(3));
        int fec = 3, features = 2, logits = 5, conv = 1;
        assertTrue(p.boundary(fec), "the embedding's input is copied back");
        assertTrue(p.boundary(features) && p.boundary(logits));
        assertFalse(p.boundary(conv));
        HostTail tail = HostTail.of(p, 1);
        assertNotNull(tail);
        try (tail) {
            assertEquals(List.of("fec"), List.copyOf(tail.graph().inputs().keySet()));
            assertEquals(List.of("embedding"), List.copyOf(tail.graph().outputs().keySet()));
        }
    }

    @Test
    void convolutionLeftToTheHostIsRefusedWithTheCause() {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", Shape.of(-1, 3, 8, 8));
        int s = g.add("soft", new Softmax(1), x);
        int c = g.add("conv", Graphs.conv(3, 4, 3, 1, 1, Activation.RELU), s);
        Graph graph = g.output("out", c).build();
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> Partition.of(graph));
        assertTrue(e.getMessage().contains("[conv]") && e.getMessage().contains("soft (Softmax)") && e.getMessage().contains("--device cpu"), e.getMessage());
    }

    @Test
    void everythingOnTheDeviceLeavesNoTail() {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", Shape.of(-1, 4, 8, 8));
        int b = g.add("bn", new BatchNorm(Graphs.random(1, 4), Graphs.random(2, 4), Graphs.random(3, 4), Graphs.random(4, 4).copy(), 1e-5f), x);
        int r = g.add("relu", new Relu(), b);
        Graph graph = g.output("out", r).build();
        Partition p = Partition.of(graph);
        assertEquals(0, p.hostNodes());
        assertNull(HostTail.of(p, 1));
    }

    @Test
    void bucketsArePowersOfTwoThenMultiplesOf256() {
        int[][] cases = {{1, 1}, {2, 2}, {3, 4}, {5, 8}, {64, 64}, {65, 128}, {255, 256}, {256, 256}, {257, 512}, {700, 768}};
        for (int[] c : cases) assertEquals(c[1], BatchBuckets.bucket(c[0]), "bucket(" + c[0] + ")");
        assertThrows(IllegalArgumentException.class, () -> BatchBuckets.bucket(0));
    }

    @Test
    void algorithmChoiceIsTheFastestThatSucceededWithinTheLimit() {
        List<ConvAlgo.Perf> r = new ArrayList<>();
        r.add(new ConvAlgo.Perf(6, 0, 0.10f, 900L << 20, 3));   // fastest, over the limit
        r.add(new ConvAlgo.Perf(4, 3000, 0.05f, 0, 3));         // failed
        r.add(new ConvAlgo.Perf(1, 0, 0.20f, 1 << 20, 3));
        r.add(new ConvAlgo.Perf(0, 0, 0.20f, 0, 3));            // as fast, less workspace
        r.add(new ConvAlgo.Perf(2, 0, -1f, 0, 3));              // not timed
        assertEquals(0, ConvAlgo.choose(r, 512L << 20).orElseThrow().algo());
        assertEquals(6, ConvAlgo.choose(r, 1L << 30).orElseThrow().algo());
        assertTrue(ConvAlgo.choose(List.of(r.get(1)), 1L << 30).isEmpty());
    }

    @Test
    void algorithmCacheKeyIgnoresWhereTheTensorsAre() {
        TensorLayout a = TensorLayout.packed(Shape.of(2, 8, 5, 5), 0), b = TensorLayout.packed(Shape.of(2, 8, 5, 5), 4096);
        ConvGeometry g = ConvGeometry.of(Graphs.conv1x1(8, 8));
        assertEquals(new ConvAlgo.Key(a, g, a, true), new ConvAlgo.Key(b, g, b, true));
        TensorLayout slice = new TensorLayout(2, 8, 5, 5, 16 * 25, 25, 5, 1, 0);
        assertFalse(new ConvAlgo.Key(a, g, a, true).equals(new ConvAlgo.Key(a, g, slice, true)), "strides matter");
        assertFalse(new ConvAlgo.Key(a, g, a, true).equals(new ConvAlgo.Key(a, g, a, false)), "the fused activation matters");
    }
}
