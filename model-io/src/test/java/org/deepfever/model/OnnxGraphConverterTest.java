package org.deepfever.model;

import static org.deepfever.model.ModelTestUtil.assertClose;
import static org.deepfever.model.ModelTestUtil.assertContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deepfever.api.DeepFever;
import org.deepfever.core.Tensor;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.graph.Graph;
import org.deepfever.io.ModelFormatException;
import org.deepfever.io.OnnxModel;
import org.deepfever.io.OnnxReader;
import org.deepfever.io.onnx.proto.Onnx.AttributeProto;
import org.deepfever.io.onnx.proto.Onnx.GraphProto;
import org.deepfever.io.onnx.proto.Onnx.ModelProto;
import org.deepfever.io.onnx.proto.Onnx.NodeProto;
import org.deepfever.io.onnx.proto.Onnx.OperatorSetIdProto;
import org.deepfever.io.onnx.proto.Onnx.TensorProto;
import org.deepfever.io.onnx.proto.Onnx.TensorShapeProto;
import org.deepfever.io.onnx.proto.Onnx.TypeProto;
import org.deepfever.io.onnx.proto.Onnx.ValueInfoProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OnnxGraphConverter on small hand-built ONNX graphs. */
class OnnxGraphConverterTest {
    @TempDir Path tmp;

    // ---- proto builders ----------------------------------------------------------------------

    /** A float tensor value with a dynamic batch dimension ("N") followed by {@code dims}. */
    private static ValueInfoProto value(String name, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        for (long d : dims) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))).build();
    }

    private static NodeProto node(String op, String name, List<String> in, String out, AttributeProto... attrs) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).addAllInput(in).addOutput(out);
        if (name != null) b.setName(name);
        for (AttributeProto a : attrs) b.addAttribute(a);
        return b.build();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static AttributeProto intsAttr(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    private static TensorProto floatInit(String name, float[] data, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : data) buf.putFloat(f);
        buf.flip();
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(buf));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    private static TensorProto int64Init(String name, long... values) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(values.length);
        for (long v : values) t.addInt64Data(v);
        return t.build();
    }

    private Path write(String file, GraphProto g) throws IOException {
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build();
        Path p = tmp.resolve(file);
        Files.write(p, m.toByteArray());
        return p;
    }

    // ---- unsupported ops -----------------------------------------------------------------------

    private Path unsupportedModel() throws IOException {
        GraphProto g = GraphProto.newBuilder().setName("bad")
                .addInput(value("input", 3, 4, 4))
                .addNode(node("LSTM", "n1", List.of("input", "W", "R"), "lstm_out"))
                .addNode(node("Erf", "n2", List.of("lstm_out"), "erf_out"))
                .addNode(node("Relu", "n3", List.of("erf_out"), "relu_out"))
                .addNode(NodeProto.newBuilder().setOpType("FusedConv").setDomain("com.microsoft").setName("n4")
                        .addInput("relu_out").addOutput("fused_out").build())
                .addNode(node("Erf", null, List.of("fused_out"), "features"))
                .addOutput(value("features", 3, 4, 4))
                .build();
        return write("unsupported.onnx", g);
    }

    @Test
    void unsupportedOpsAreAllListedInOneErrorAtLoad() throws IOException {
        Path p = unsupportedModel();
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> DeepFever.load(p));
        String msg = e.getMessage();
        assertContains(msg, "unsupported.onnx", "LSTM (node n1)", "Erf (node n2)", "com.microsoft.FusedConv (node n4)",
                "Erf (node Erf->features)");
        assertFalse(msg.contains("Relu"), "Relu is supported and must not be listed: " + msg);
    }

    @Test
    void unsupportedOpsFromConverterDirectly() throws IOException {
        try (OnnxModel m = OnnxReader.read(unsupportedModel())) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxGraphConverter.convert(m));
            assertEquals(m.path(), e.file());
            assertContains(e.getMessage(), "LSTM (node n1)", "Erf (node n2)");
        }
    }

    // ---- a tiny valid graph, checked against values computed here -----------------------------

    private static final int N = 2, C = 2, H = 2, W = 2;

    private static final float[] MATMUL_B = {   // [8, 3]
        0.5f, -0.25f, 0.125f,
        -0.75f, 0.3f, 0.2f,
        0.1f, 0.9f, -0.4f,
        0.6f, -0.1f, 0.05f,
        -0.2f, 0.4f, 0.7f,
        0.33f, -0.66f, 0.15f,
        0.8f, 0.05f, -0.3f,
        -0.45f, 0.22f, 0.6f,
    };

    /**
     * input [N,2,2,2] -> Transpose(0,2,3,1) -> Flatten -> t [N,8];  MatMul(t, B[8,3]) = m;
     * probs = Softmax(m, axis 1); diff = Identity(Sigmoid(m) - probs); reshaped = Reshape(t, [0,4,2]);
     * pooled = Flatten(GlobalAveragePool(input)).
     */
    private Path tinyModel() throws IOException {
        GraphProto g = GraphProto.newBuilder().setName("tiny")
                .addInput(value("input", C, H, W))
                .addInitializer(floatInit("B", MATMUL_B, 8, 3))
                .addInitializer(int64Init("shape", 0, 4, 2))
                .addNode(node("Transpose", "transpose", List.of("input"), "nhwc", intsAttr("perm", 0, 2, 3, 1)))
                .addNode(node("Flatten", "flatten", List.of("nhwc"), "t", intAttr("axis", 1)))
                .addNode(node("MatMul", "matmul", List.of("t", "B"), "m"))
                .addNode(node("Softmax", "softmax", List.of("m"), "probs", intAttr("axis", 1)))
                .addNode(node("Sigmoid", "sigmoid", List.of("m"), "sig"))
                .addNode(node("Sub", "sub", List.of("sig", "probs"), "d"))
                .addNode(node("Identity", "identity", List.of("d"), "diff"))
                .addNode(node("Reshape", "reshape", List.of("t", "shape"), "reshaped"))
                .addNode(node("GlobalAveragePool", "gap", List.of("input"), "gap4"))
                .addNode(node("Flatten", "flatten2", List.of("gap4"), "pooled"))
                .addOutput(value("probs", 3))
                .addOutput(value("diff", 3))
                .addOutput(value("reshaped", 4, 2))
                .addOutput(value("pooled", 2))
                .build();
        return write("tiny.onnx", g);
    }

    private static float[] input() {
        float[] x = new float[N * C * H * W];
        for (int i = 0; i < x.length; i++) x[i] = (float) (((i * 37) % 17) / 8.0 - 1.0);
        return x;
    }

    @Test
    void tinyGraphMatchesHandComputedValues() throws IOException {
        float[] x = input();
        Map<String, Tensor> out;
        try (OnnxModel m = OnnxReader.read(tinyModel())) {
            Graph graph = OnnxGraphConverter.convert(m);
            assertEquals(List.of("probs", "diff", "reshaped", "pooled"), List.copyOf(graph.outputs().keySet()));
            assertEquals(3 * 8 + 0, OnnxGraphConverter.parameterCount(m));
            try (CompiledGraph cg = CompiledGraph.compile(graph, 1)) {
                out = cg.run(Map.of("input", Tensor.of(x, N, C, H, W)));
            }
        }
        // By hand: NHWC flattening, matmul, softmax, sigmoid.
        float[] t = new float[N * 8];
        for (int n = 0; n < N; n++) {
            int k = 0;
            for (int h = 0; h < H; h++) for (int w = 0; w < W; w++) for (int c = 0; c < C; c++) {
                t[n * 8 + k++] = x[((n * C + c) * H + h) * W + w];
            }
        }
        float[] probs = new float[N * 3], diff = new float[N * 3], pooled = new float[N * C];
        for (int n = 0; n < N; n++) {
            double[] mm = new double[3];
            for (int j = 0; j < 3; j++) for (int i = 0; i < 8; i++) mm[j] += (double) t[n * 8 + i] * MATMUL_B[i * 3 + j];
            double max = Math.max(mm[0], Math.max(mm[1], mm[2])), sum = 0;
            for (int j = 0; j < 3; j++) sum += Math.exp(mm[j] - max);
            for (int j = 0; j < 3; j++) {
                double p = Math.exp(mm[j] - max) / sum;
                probs[n * 3 + j] = (float) p;
                diff[n * 3 + j] = (float) (1 / (1 + Math.exp(-mm[j])) - p);
            }
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int i = 0; i < H * W; i++) s += x[(n * C + c) * H * W + i];
                pooled[n * C + c] = (float) (s / (H * W));
            }
        }
        assertArrayEquals(new int[] {N, 3}, out.get("probs").shape().dims());
        assertArrayEquals(new int[] {N, 3}, out.get("diff").shape().dims());
        assertArrayEquals(new int[] {N, 4, 2}, out.get("reshaped").shape().dims());
        assertArrayEquals(new int[] {N, C}, out.get("pooled").shape().dims());
        assertClose("probs", probs, out.get("probs").toFloatArray(), 1e-6);
        assertClose("diff", diff, out.get("diff").toFloatArray(), 1e-6);
        assertArrayEquals(t, out.get("reshaped").toFloatArray(), "reshaped: a pure permutation of the input");
        assertClose("pooled", pooled, out.get("pooled").toFloatArray(), 1e-6);
        float[] p = out.get("probs").toFloatArray();
        for (int n = 0; n < N; n++) assertEquals(1.0, p[n * 3] + p[n * 3 + 1] + p[n * 3 + 2], 1e-6);
    }

    /**
     * F.normalize as exported (ReduceL2 -> Clip -> Expand(Shape) -> Div) becomes one L2Normalize
     * node; with the norm also a graph output the pattern stays as it is. Both give x / ||x||.
     */
    @Test
    void exportedNormalizeBecomesOneL2NormalizeNode() throws IOException {
        for (boolean normIsOutput : new boolean[] {false, true}) {
            GraphProto.Builder gb = GraphProto.newBuilder().setName("normalize")
                    .addInput(value("input", C, H, W))
                    .addInitializer(floatInit("eps", new float[] {1e-12f}))
                    .addNode(node("Flatten", "flatten", List.of("input"), "t", intAttr("axis", 1)))
                    .addNode(node("ReduceL2", "norm", List.of("t"), "n", intsAttr("axes", 1), intAttr("keepdims", 1)))
                    .addNode(node("Clip", "clip", List.of("n", "eps"), "clipped"))
                    .addNode(node("Shape", "shape", List.of("t"), "s"))
                    .addNode(node("Expand", "expand", List.of("clipped", "s"), "e"))
                    .addNode(node("Div", "div", List.of("t", "e"), "normalized"))
                    .addOutput(value("normalized", C * H * W));
            if (normIsOutput) gb.addOutput(value("n", 1));
            float[] x = input();
            try (OnnxModel m = OnnxReader.read(write("normalize" + normIsOutput + ".onnx", gb.build()))) {
                Graph graph = OnnxGraphConverter.convert(m);
                List<String> kinds = graph.nodes().stream().map(n -> n.op().kind()).toList();
                assertEquals(normIsOutput ? List.of("Flatten", "ReduceL2", "Clip", "Div") : List.of("Flatten", "L2Normalize"), kinds);
                Map<String, Tensor> out;
                try (CompiledGraph cg = CompiledGraph.compile(graph, 1)) {
                    out = cg.run(Map.of("input", Tensor.of(x, N, C, H, W)));
                }
                int len = C * H * W;
                float[] want = new float[N * len];
                for (int n = 0; n < N; n++) {
                    double ss = 0;
                    for (int i = 0; i < len; i++) ss += (double) x[n * len + i] * x[n * len + i];
                    for (int i = 0; i < len; i++) want[n * len + i] = (float) (x[n * len + i] / Math.sqrt(ss));
                }
                assertClose("normalized", want, out.get("normalized").toFloatArray(), 1e-6);
            }
        }
    }

    @Test
    void tinyGraphWithoutDeepFeverOutputsIsRefusedByTheApi() throws IOException {
        Path p = tinyModel();
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> DeepFever.load(p));
        assertContains(e.getMessage(), "tiny.onnx", "'features'");
    }

    @Test
    void undefinedInputNamesTheNode() throws IOException {
        GraphProto g = GraphProto.newBuilder().setName("broken")
                .addInput(value("input", C, H, W))
                .addNode(node("Relu", "r1", List.of("nowhere"), "features"))
                .addOutput(value("features", C, H, W))
                .build();
        Path p = write("broken.onnx", g);
        try (OnnxModel m = OnnxReader.read(p)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxGraphConverter.convert(m));
            assertContains(e.getMessage(), "broken.onnx", "r1", "'nowhere'");
        }
    }
}
