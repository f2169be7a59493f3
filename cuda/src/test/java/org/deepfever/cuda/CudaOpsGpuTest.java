package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deepfever.core.Shape;
import org.deepfever.core.Tensor;
import org.deepfever.core.graph.Graph;
import org.deepfever.core.op.Activation;
import org.deepfever.core.op.BatchNorm;
import org.deepfever.core.op.Binary;
import org.deepfever.core.op.Clip;
import org.deepfever.core.op.Concat;
import org.deepfever.core.op.Conv2d;
import org.deepfever.core.op.Flatten;
import org.deepfever.core.op.Gemm;
import org.deepfever.core.op.GlobalAvgPool;
import org.deepfever.core.op.MaxPool2d;
import org.deepfever.core.op.Op;
import org.deepfever.core.op.Relu;
import org.deepfever.core.op.ResidualAdd;
import org.deepfever.core.op.Sigmoid;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every device step against the scalar reference backend, on awkward shapes, at batch 1, 3 (a
 * bucket of 4: padded rows, channel slices with a batch stride) and 5. Needs a GPU; skipped
 * otherwise. Tolerance: max |cuda - reference| <= 1e-4 * (1 + max |reference|), FP32 on both sides
 * (cuDNN in FMA math, no TF32), the difference being summation order.
 */
class CudaOpsGpuTest {
    static final double TOLERANCE = 1e-4;

    /** A graph of one op on an input of {@code shape}; a second input of {@code second} when the op takes two. */
    static Graph single(Op op, Shape shape, Shape second) {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", shape);
        int y = second == null ? g.add("op", op, x) : g.add("op", op, x, g.input("second", second));
        return g.output("out", y).build();
    }

    static Stream<Arguments> graphs() {
        List<Arguments> out = new ArrayList<>();
        Shape x = Shape.of(-1, 6, 11, 9);
        out.add(Arguments.of("conv 3x3 relu", single(Graphs.conv(6, 8, 3, 1, 1, Activation.RELU), x, null)));
        out.add(Arguments.of("conv 3x3 s2 no act", single(Graphs.conv(6, 8, 3, 2, 0, Activation.NONE), x, null)));
        out.add(Arguments.of("conv 1x7", single(new Conv2d(Graphs.random(11, 5, 6, 1, 7), Graphs.random(12, 5), 1, 1, 0, 3, 0, 3, 1, 1, 1, Activation.RELU, false), x, null)));
        out.add(Arguments.of("depthwise", single(new Conv2d(Graphs.random(13, 6, 1, 3, 3), null, 1, 1, 1, 1, 1, 1, 1, 1, 6, Activation.RELU, false), x, null)));
        out.add(Arguments.of("grouped 2", single(new Conv2d(Graphs.random(14, 8, 3, 3, 3), Graphs.random(15, 8), 2, 2, 1, 1, 1, 1, 1, 1, 2, Activation.NONE, false), x, null)));
        out.add(Arguments.of("dilated", single(new Conv2d(Graphs.random(16, 4, 6, 3, 3), null, 1, 1, 2, 2, 2, 2, 2, 2, 1, Activation.RELU, false), x, null)));
        out.add(Arguments.of("residual relu", single(Graphs.conv(6, 6, 1, 1, 0, Activation.RELU).scaledBy(0.17f).withResidual(true), x, x)));
        out.add(Arguments.of("residual no act", single(Graphs.conv(6, 6, 3, 1, 1, Activation.NONE).scaledBy(0.2f).withResidual(true), x, x)));
        out.add(Arguments.of("maxpool 3x3 s2", single(MaxPool2d.of(3, 2), x, null)));
        out.add(Arguments.of("maxpool padded", single(new MaxPool2d(3, 3, 1, 1, 1, 1, 1, 1, false), x, null)));
        out.add(Arguments.of("global avg pool", single(new GlobalAvgPool(false), x, null)));
        out.add(Arguments.of("batch norm", single(new BatchNorm(Graphs.random(1, 6), Graphs.random(2, 6), Graphs.random(3, 6), abs(Graphs.random(4, 6)), 1e-5f), x, null)));
        out.add(Arguments.of("relu", single(new Relu(), x, null)));
        out.add(Arguments.of("sigmoid", single(new Sigmoid(), x, null)));
        out.add(Arguments.of("clip 0..0.3", single(new Clip(0, 0.3f), x, null)));
        out.add(Arguments.of("residual add", single(new ResidualAdd(0.1f, Activation.RELU), x, x)));
        out.add(Arguments.of("add broadcast", single(Binary.add(), x, Shape.of(-1, 6, 1, 1))));
        out.add(Arguments.of("sub", single(new Binary(Binary.Fn.SUB), x, x)));
        out.add(Arguments.of("flatten", single(new Flatten(1), x, null)));
        out.add(Arguments.of("gemm", single(new Gemm(Graphs.random(21, 7, 40), Graphs.random(22, 7)), Shape.of(-1, 40), null)));
        out.add(Arguments.of("gemm no bias", single(new Gemm(Graphs.random(23, 3, 40), null), Shape.of(-1, 40), null)));
        out.add(Arguments.of("branches into a concat", BufferPlanTest.branches()));
        out.add(Arguments.of("dense block with bn on slices", denseBlock()));
        out.add(Arguments.of("concat of a graph input", concatOfInput()));
        out.add(Arguments.of("head with host tail", PlanningTest.headGraph()));
        out.add(Arguments.of("residual chain", BufferPlanTest.residual(false)));
        return out.stream();
    }

    private static Tensor abs(Tensor t) {
        float[] a = t.toFloatArray();
        for (int i = 0; i < a.length; i++) a[i] = Math.abs(a[i]) + 0.1f;
        return Tensor.of(a, t.shape().dims());
    }

    /** DenseNet layers: BN + ReLU over a growing concat prefix (strided reads), 1x1 and 3x3 convs writing into slices. */
    static Graph denseBlock() {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", Shape.of(-1, 8, 5, 5));
        List<Integer> feats = new ArrayList<>(List.of(g.add("reduce", Graphs.conv1x1(8, 6), x)));
        int cat = feats.get(0);
        for (int i = 0; i < 3; i++) {
            int c = 6 + 4 * i;
            int y = g.add("norm" + i, new BatchNorm(Graphs.random(30 + i, c), Graphs.random(40 + i, c), Graphs.random(50 + i, c), abs(Graphs.random(60 + i, c)), 1e-5f), cat);
            y = g.add("relu" + i, new Relu(), y);
            y = g.add("conv1_" + i, Graphs.conv1x1(c, 8), y);
            y = g.add("conv2_" + i, Graphs.conv(8, 4, 3, 1, 1, Activation.NONE), y);
            feats.add(y);
            cat = g.add("cat" + i, new Concat(1, feats.size()), feats.stream().mapToInt(Integer::intValue).toArray());
        }
        return g.output("out", g.add("project", Graphs.conv1x1(18, 5), cat)).build();
    }

    /** A concat whose first input is the graph input (copied into its slice) and whose second is a conv output. */
    static Graph concatOfInput() {
        Graph.Builder g = Graph.builder();
        int x = g.input("input", Shape.of(-1, 3, 7, 7));
        int c = g.add("conv", Graphs.conv(3, 5, 3, 1, 1, Activation.RELU), x);
        int cat = g.add("cat", new Concat(1, 2), x, c);
        return g.output("out", g.add("after", Graphs.conv1x1(8, 2), cat)).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("graphs")
    void matchesTheReferenceBackend(String name, Graph graph) {
        Gpu.libraries();
        for (boolean inPlace : new boolean[] {false, true}) {
            try (CudaGraphExecutor cuda = Gpu.compile(graph, inPlace)) {
                for (int batch : new int[] {1, 3, 5}) {
                    Map<String, Tensor> inputs = new java.util.LinkedHashMap<>();
                    long seed = batch * 100L;
                    for (var e : graph.inputShapes().entrySet()) inputs.put(e.getKey(), Graphs.random(seed++, e.getValue().withDim(0, batch).dims()));
                    Map<String, Tensor> want = Gpu.reference(graph, inputs);
                    Map<String, Tensor> got = cuda.run(inputs);
                    assertEquals(want.keySet(), got.keySet());
                    for (String out : want.keySet()) {
                        double diff = Gpu.maxAbsDiff(want.get(out), got.get(out));
                        double bound = TOLERANCE * (1 + Gpu.maxAbs(want.get(out)));
                        assertTrue(diff <= bound, name + " output " + out + " batch " + batch + (inPlace ? " in place" : "")
                                + ": max |cuda - reference| = " + diff + " > " + bound);
                    }
                }
            }
        }
    }
}
