package org.deepfever.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.exec.ExecutionPlan;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.op.*;
import org.deepfever.kernels.reference.ReferenceBackend;
import org.deepfever.kernels.simd.SimdBackend;
import org.junit.jupiter.api.Test;

/**
 * The planned executor with SIMD preferred and the reference as fallback must give what an
 * all-reference run gives, on a small Inception/DenseNet-shaped graph: branch concats of conv
 * outputs (written in place into the concat buffer), a DenseNet chain of growing concats (nested
 * prefix views), a value feeding two concats (the second really copies, from a sliced input),
 * fused residual conv, ResidualAdd, ops only the reference runs (Sigmoid, Flatten), and heads.
 * Tolerance: abs 1e-4 + rel 1e-4 of the value (float32 vs double accumulation through ~12 layers).
 */
class ExecutorTest {
    final Random rnd = new Random(5);

    private Tensor r(int... dims) { return TestSupport.random(rnd, dims); }

    private Conv2d conv(int cin, int cout, int kh, int kw, int stride, int ph, int pw, boolean relu) {
        Tensor w = r(cout, cin, kh, kw);
        float s = (float) (1.5 / Math.sqrt(cin * kh * kw));
        for (int i = 0; i < w.size(); i++) w.array()[i] *= s;
        return new Conv2d(w, r(cout), stride, stride, ph, pw, ph, pw, 1, 1, 1, relu ? Activation.RELU : Activation.NONE, false);
    }

    private BatchNorm bn(int c) {
        Tensor var = r(c);
        for (int i = 0; i < c; i++) var.array()[i] = Math.abs(var.array()[i]) + 0.5f;
        return new BatchNorm(r(c), r(c), r(c), var, 1e-5f);
    }

    Graph graph() {
        Graph.Builder g = Graph.builder();
        int img = g.input("image", Shape.of(-1, 3, 17, 17));
        int stem = g.add("stem", conv(3, 8, 3, 3, 2, 0, 0, true), img);                 // 8x8x8
        int b0 = g.add("b0", conv(8, 5, 1, 1, 1, 0, 0, true), stem);
        int b1a = g.add("b1a", conv(8, 4, 1, 1, 1, 0, 0, true), stem);
        int b1 = g.add("b1", conv(4, 6, 3, 3, 1, 1, 1, true), b1a);
        int b2a = g.add("b2a", conv(8, 3, 1, 1, 1, 0, 0, true), stem);
        int b2b = g.add("b2b", new Conv2d(r(3, 3, 1, 7), r(3), 1, 1, 0, 3, 0, 3, 1, 1, 1, Activation.RELU, false), b2a);
        int b2 = g.add("b2", new Conv2d(r(4, 3, 7, 1), r(4), 1, 1, 3, 0, 3, 0, 1, 1, 1, Activation.RELU, false), b2b);
        int b3 = g.add("b3", new MaxPool2d(3, 3, 1, 1, 1, 1, 1, 1, false), stem);
        int cat = g.add("cat", new Concat(1, 4), b0, b1, b2, b3);                       // 23 ch
        int up = g.add("up", conv(23, 8, 1, 1, 1, 0, 0, true).withResidual(true), cat, stem);
        int ra = g.add("ra", new ResidualAdd(0.2f, Activation.RELU), up, stem);
        int cat2 = g.add("cat2", new Concat(1, 2), b0, ra);                            // b0 already homed in cat: copied
        int sig = g.add("sig", new Sigmoid(), cat2);                                     // reference only
        int mul = g.add("mul", Binary.mul(), cat2, sig);
        int red = g.add("red", new MaxPool2d(3, 3, 2, 2, 0, 0, 0, 0, false), mul);        // 3x3
        int x0 = g.add("x0", conv(13, 12, 1, 1, 1, 0, 0, true), red);
        // DenseNet block, 3 layers, growth 4: BN-ReLU-conv1x1-ReLU-conv3x3, inputs = concat of all before
        int[] feats = {x0};
        int c = 12;
        int block = x0;
        for (int i = 1; i <= 3; i++) {
            int n1 = g.add("d" + i + "_bn", bn(c), block);
            int a1 = g.add("d" + i + "_relu", new Relu(), n1);
            int c1 = g.add("d" + i + "_c1", conv(c, 8, 1, 1, 1, 0, 0, true), a1);
            int c2 = g.add("d" + i + "_c2", conv(8, 4, 3, 3, 1, 1, 1, false), c1);
            feats = java.util.Arrays.copyOf(feats, feats.length + 1);
            feats[feats.length - 1] = c2;
            c += 4;
            block = g.add("d" + i + "_cat", new Concat(1, feats.length), feats);
        }
        int proj = g.add("proj", conv(c, 6, 1, 1, 1, 0, 0, true), block);
        int gap = g.add("gap", new GlobalAvgPool(true), proj);
        int flat = g.add("flat", new Flatten(1), gap);                                   // reference only
        int logits = g.add("logits", new Gemm(r(5, 6), r(5)), flat);
        int probs = g.add("probs", new Softmax(1), logits);
        int e = g.add("emb_fc", new Gemm(r(4, 6), null), flat);
        int emb = g.add("emb", L2Normalize.of(), e);
        return g.output("logits", logits).output("probs", probs).output("embedding", emb).output("features", flat).build();
    }

    @Test
    void simdWithFallbackMatchesAllReference() {
        Graph graph = graph();
        try (ThreadPool pool = new ThreadPool(2);
             CompiledGraph fast = new CompiledGraph(graph, new SimdBackend(), new ReferenceBackend(), pool, false);
             CompiledGraph slow = new CompiledGraph(graph, new ReferenceBackend(), null, pool, false)) {
            Map<String, String> by = fast.backendByNode();
            assertEquals("simd", by.get("stem"));
            assertEquals("simd", by.get("b2b"));
            assertEquals("reference", by.get("sig"));
            assertEquals("reference", by.get("flat"));

            ExecutionPlan plan = fast.plan(1);
            // cat, d1_cat, d2_cat, d3_cat run no kernel; cat2 must copy
            assertEquals(4, plan.elidedConcats(), "elided concats");
            // up's residual (stem) is read again later (ra): it must not be overwritten
            assertEquals(0, plan.inPlaceOutputs(), "in-place outputs");

            for (int batch : new int[] {1, 3}) {
                Tensor x = r(batch, 3, 17, 17);
                for (int rep = 0; rep < 2; rep++) { // second run reuses the pooled plan (stale arena contents)
                    Map<String, Tensor> want = slow.run(Map.of("image", x));
                    Map<String, Tensor> got = fast.run(Map.of("image", x));
                    for (String name : want.keySet()) {
                        org.deepfever.kernels.simd.conv.SimdConvTest.assertClose(name + " batch " + batch, want.get(name), got.get(name), null, 1e-4f, 1e-4f);
                    }
                }
            }
            // and the intermediate values agree too (every node, via the observer)
            Tensor x = r(2, 3, 17, 17);
            Map<String, Tensor> taps = new java.util.HashMap<>();
            slow.plan(2).execute(Map.of("image", x), (n, t) -> taps.put(n.name(), t.copy()));
            int[] checked = {0};
            fast.plan(2).execute(Map.of("image", x), (n, t) -> {
                org.deepfever.kernels.simd.conv.SimdConvTest.assertClose("node " + n.name(), taps.get(n.name()), t, null, 1e-4f, 1e-4f);
                checked[0]++;
            });
            assertEquals(graph.nodes().size(), checked[0]);
        }
    }

    /**
     * Batch lanes: a batch of at least as many items as threads runs as one single-threaded
     * sub-batch per thread, so each item gets exactly what a one-thread graph gives its lane's
     * sub-batch (bit for bit), outputs in input order; smaller batches run whole on the pool.
     */
    @Test
    void batchLanesRunEachSubBatchOnOneThread() {
        Graph graph = smallImageStage();
        try (ThreadPool three = new ThreadPool(3); ThreadPool one = new ThreadPool(1);
             CompiledGraph lanes = new CompiledGraph(graph, new SimdBackend(), new ReferenceBackend(), three, false);
             CompiledGraph single = new CompiledGraph(graph, new SimdBackend(), new ReferenceBackend(), one, false)) {
            assertEquals(1, lanes.lanes(1));
            assertEquals(1, lanes.lanes(2));
            assertEquals(3, lanes.lanes(3));
            assertEquals(3, lanes.lanes(5));
            assertEquals(1, single.lanes(8));
            Tensor x = r(5, 24, 9, 9);
            int[][] subBatches = {{0, 1}, {1, 2}, {3, 2}}; // 5 items on 3 lanes: 1, 2, 2
            for (int rep = 0; rep < 2; rep++) { // the second run reuses the lanes' pooled plans
                Map<String, Tensor> got = lanes.run(Map.of("image", x));
                long peak = 0;
                for (int[] sb : subBatches) {
                    Map<String, Tensor> want = single.run(Map.of("image", x.slice(0, sb[0], sb[1]).copy()));
                    peak += single.peakActivationBytes(sb[1]);
                    for (String name : want.keySet()) {
                        assertEquals(5, got.get(name).dim(0), name);
                        org.junit.jupiter.api.Assertions.assertArrayEquals(want.get(name).toFloatArray(),
                                got.get(name).slice(0, sb[0], sb[1]).toFloatArray(), name + " items " + sb[0] + ".." + (sb[0] + sb[1] - 1));
                    }
                }
                assertEquals(peak, lanes.peakActivationBytes(5), "the lanes' arenas together");
            }
        }
    }

    @Test
    void serviceLoaderPrefersSimd() {
        if (System.getProperty(Backends.PROPERTY) == null) assertEquals("simd", Backends.preferred().name());
        assertTrue(Backends.all().stream().anyMatch(b -> b.name().equals("simd")));
        try (CompiledGraph g = CompiledGraph.compile(graph(), 2)) {
            Map<String, Tensor> out = g.run(Map.of("image", r(1, 3, 17, 17)));
            assertEquals(Shape.of(1, 4), out.get("embedding").shape());
            float ss = 0;
            for (float v : out.get("embedding").toFloatArray()) ss += v * v;
            assertEquals(1f, ss, 1e-5f);
        }
    }

    /**
     * An Inception-ResNet block pair on a 7x7 image (the small-image stage of DeepFEVER, scaled
     * down): its channel-vector convs get channels-last buffers (branch concat written in place, the
     * residual read channels-last), the edges stay NCHW (graph input, the max-pool's input, the
     * output). Every node must match the all-reference run, at batch 1 and 3.
     */
    Graph smallImageStage() {
        Graph.Builder g = Graph.builder();
        int x = g.input("image", Shape.of(-1, 24, 9, 9));
        int stem = g.add("stem", conv(24, 48, 3, 3, 1, 0, 0, true), x);                      // 48x7x7
        int block = stem;
        for (int i = 0; i < 2; i++) {
            int b0 = g.add("r" + i + "_b0", conv(48, 31, 1, 1, 1, 0, 0, true), block);     // odd channel count
            int b1a = g.add("r" + i + "_b1a", conv(48, 32, 1, 1, 1, 0, 0, true), block);
            int b1b = g.add("r" + i + "_b1b", conv(32, 32, 1, 7, 1, 0, 3, true), b1a);
            int b1 = g.add("r" + i + "_b1", conv(32, 32, 7, 1, 1, 3, 0, true), b1b);
            int cat = g.add("r" + i + "_cat", new Concat(1, 2), b0, b1);                    // 63 ch, in place
            block = g.add("r" + i + "_up", conv(63, 48, 1, 1, 1, 0, 0, true).withResidual(true), cat, block);
        }
        int pool = g.add("pool", new MaxPool2d(3, 3, 2, 2, 0, 0, 0, 0, false), block);      // 48x3x3
        int head = g.add("head", conv(48, 40, 3, 3, 1, 1, 1, true), pool);
        return g.output("head", head).output("pool", pool).build();
    }

    @Test
    void channelsLastStageMatchesAllReference() {
        Graph graph = smallImageStage();
        try (ThreadPool pool = new ThreadPool(2);
             CompiledGraph fast = new CompiledGraph(graph, new SimdBackend(), new ReferenceBackend(), pool, false);
             CompiledGraph slow = new CompiledGraph(graph, new ReferenceBackend(), null, pool, false)) {
            if (!org.deepfever.kernels.simd.Simd.SCALAR) {
                int cl = fast.plan(1).channelsLastValues();
                assertTrue(cl >= 8, "channels-last values: " + cl);
            }
            // both residual convs write over their residual's buffer (the second over the first's)
            assertEquals(2, fast.plan(1).inPlaceOutputs());
            for (int batch : new int[] {1, 3}) {
                Tensor x = r(batch, 24, 9, 9);
                Map<String, Tensor> taps = new java.util.HashMap<>();
                slow.plan(batch).execute(Map.of("image", x), (n, t) -> taps.put(n.name(), t.copy()));
                int[] checked = {0};
                for (int rep = 0; rep < 2; rep++) {
                    fast.plan(batch).execute(Map.of("image", x), (n, t) -> {
                        org.deepfever.kernels.simd.conv.SimdConvTest.assertClose("node " + n.name() + " batch " + batch, taps.get(n.name()), t, null, 1e-4f, 1e-4f);
                        checked[0]++;
                    });
                }
                assertEquals(2 * graph.nodes().size(), checked[0]);
            }
        }
    }
}
