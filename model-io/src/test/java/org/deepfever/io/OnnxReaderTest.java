package org.deepfever.io;

import static org.deepfever.io.TestFiles.assertBitExact;
import static org.deepfever.io.TestFiles.assertContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.deepfever.core.Tensor;
import org.deepfever.io.onnx.proto.Onnx.GraphProto;
import org.deepfever.io.onnx.proto.Onnx.ModelProto;
import org.deepfever.io.onnx.proto.Onnx.NodeProto;
import org.deepfever.io.onnx.proto.Onnx.OperatorSetIdProto;
import org.deepfever.io.onnx.proto.Onnx.StringStringEntryProto;
import org.deepfever.io.onnx.proto.Onnx.TensorProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxReaderTest {
    @TempDir Path tmp;

    private static final Set<String> EXPECTED_OPS = Set.of("Conv", "Relu", "Concat", "Constant", "Mul", "Add",
            "BatchNormalization", "MaxPool", "Gemm", "ReduceMean", "ReduceL2", "Clip", "Shape", "Expand", "Div");

    private static ModelProto fixtureProto(String set) throws IOException {
        return ModelProto.parseFrom(Files.readAllBytes(TestFiles.fixtures().resolve(set).resolve("model.onnx")));
    }

    private Path write(String name, ModelProto m) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, m.toByteArray());
        return p;
    }

    private static void checkFixture(String set) throws IOException {
        Path dir = TestFiles.fixtures().resolve(set);
        try (OnnxModel m = OnnxReader.read(dir.resolve("model.onnx"));
             WeightFile st = SafetensorsReader.read(dir.resolve("model.safetensors"))) {
            assertEquals(13, m.opsetVersion());
            GraphProto g = m.graph();
            Set<String> ops = new TreeSet<>();
            for (NodeProto n : g.getNodeList()) ops.add(n.getOpType());
            assertEquals(new TreeSet<>(EXPECTED_OPS), ops);
            assertEquals(g.getInitializerCount(), m.initializers().size());
            assertFalse(g.getInitializer(0).hasRawData(), "initializer data stays in the mapping, out of the proto");
            assertTrue(m.intInitializers().isEmpty());
            for (var e : m.initializers().entrySet()) {
                Tensor t = e.getValue();
                assertTrue(TestFiles.isMapped(t), e.getKey() + " raw_data should be a slice of the mapping");
                assertTrue(t.rank() == 1 || t.rank() == 2 || t.rank() == 4, e.getKey() + " rank " + t.rank());
                for (int d : t.shape().dims()) assertTrue(d > 0 && d <= 4096, e.getKey() + " " + t.shape());
            }
            // Heads are not folded by the exporter: bit-identical to the state dict.
            for (String k : List.of("fec.weight", "fec.bias", "affectnet.weight", "affectnet.bias")) {
                assertBitExact(k, st.tensor(k), m.initializers().get(k));
            }
            assertEquals(List.of("input"), g.getInputList().stream().map(v -> v.getName()).toList());
            assertEquals(List.of("features", "embedding", "logits"), g.getOutputList().stream().map(v -> v.getName()).toList());
        }
    }

    @Test
    void readsMiniFixture() throws IOException {
        checkFixture("deepfever-mini");
    }

    @Test
    void readsFullBackboneFixture() throws IOException {
        checkFixture("deepfever-mini-fullbackbone");
    }

    @Test
    void attributeHelpersAndConstants() throws IOException {
        try (OnnxModel m = OnnxReader.read(TestFiles.mini("model.onnx"))) {
            List<Float> constants = new java.util.ArrayList<>();
            for (NodeProto n : m.graph().getNodeList()) {
                switch (n.getOpType()) {
                    case "ReduceMean" -> {
                        assertArrayEquals(new long[] {2, 3}, OnnxAttrs.getInts(n, "axes", null));
                        assertArrayEquals(new int[] {2, 3}, OnnxAttrs.getIntArray(n, "axes", null));
                        assertEquals(0, OnnxAttrs.getInt(n, "keepdims", 1));
                    }
                    case "Gemm" -> {
                        assertEquals(1, OnnxAttrs.getInt(n, "transB", 0));
                        assertEquals(0, OnnxAttrs.getInt(n, "transA", 0));
                        assertEquals(1f, OnnxAttrs.getFloat(n, "alpha", 2f));
                        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxAttrs.getFloat(n, "transB", 0));
                        assertContains(e.getMessage(), "(Gemm)", "'transB' is INT, expected FLOAT");
                    }
                    case "Conv" -> {
                        assertEquals(2, OnnxAttrs.getIntArray(n, "strides", null).length);
                        assertTrue(OnnxAttrs.has(n, "kernel_shape"));
                        assertNull(OnnxAttrs.find(n, "nonexistent"));
                    }
                    case "Constant" -> {
                        Tensor t = m.toTensor(OnnxAttrs.getTensor(n, "value"));
                        assertEquals(0, t.rank());
                        constants.add(t.get());
                    }
                    default -> { }
                }
            }
            assertEquals(List.of(0.17f, 0.17f, 0.1f, 0.1f, 1e-12f), constants);
        }
    }

    @Test
    void decodesTypedFieldsAndIntegerInitializers() throws IOException {
        ByteBuffer i64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).putLong(1L << 40);
        ByteBuffer f16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(-2f));
        GraphProto g = GraphProto.newBuilder()
                .addInitializer(TensorProto.newBuilder().setName("fd").setDataType(1).addDims(2).addFloatData(1.25f).addFloatData(-3f))
                .addInitializer(TensorProto.newBuilder().setName("h").setDataType(10).addDims(2).setRawData(ByteString.copyFrom(f16.array())))
                .addInitializer(TensorProto.newBuilder().setName("hi").setDataType(10).addDims(1).addInt32Data(Float.floatToFloat16(4f) & 0xffff))
                .addInitializer(TensorProto.newBuilder().setName("bf").setDataType(16).addDims(1).setRawData(ByteString.copyFrom(new byte[] {0, 0x40})))
                .addInitializer(TensorProto.newBuilder().setName("shape").setDataType(7).addDims(2).setRawData(ByteString.copyFrom(i64.array())))
                .addInitializer(TensorProto.newBuilder().setName("axes").setDataType(7).addDims(3).addInt64Data(0).addInt64Data(2).addInt64Data(-1))
                .addInitializer(TensorProto.newBuilder().setName("i32").setDataType(6).addDims(1).addDims(2).addInt32Data(7).addInt32Data(-8))
                .build();
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).setGraph(g).build();
        try (OnnxModel om = OnnxReader.read(write("typed.onnx", m))) {
            assertEquals(17, om.opsetVersion());
            assertArrayEquals(new float[] {1.25f, -3f}, om.initializers().get("fd").toFloatArray());
            assertArrayEquals(new float[] {0.5f, -2f}, om.initializers().get("h").toFloatArray());
            assertArrayEquals(new float[] {4f}, om.initializers().get("hi").toFloatArray());
            assertArrayEquals(new float[] {2f}, om.initializers().get("bf").toFloatArray());
            assertArrayEquals(new long[] {-1, 1L << 40}, om.intInitializers().get("shape").values());
            assertArrayEquals(new long[] {0, 2, -1}, om.intInitializers().get("axes").values());
            assertArrayEquals(new long[] {7, -8}, om.intInitializers().get("i32").values());
            assertArrayEquals(new int[] {1, 2}, om.intInitializers().get("i32").shape());
        }
        ModelProto bad = m.toBuilder().setGraph(g.toBuilder().addInitializer(TensorProto.newBuilder().setName("s").setDataType(8).addDims(1))).build();
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(write("str.onnx", bad))).getMessage(),
                "str.onnx: tensor 's': initializer has unsupported data type STRING");
        ModelProto shortRaw = m.toBuilder().setGraph(g.toBuilder().addInitializer(TensorProto.newBuilder().setName("r").setDataType(1).addDims(3).setRawData(ByteString.copyFrom(new byte[8])))).build();
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(write("raw.onnx", shortRaw))).getMessage(),
                "raw.onnx: tensor 'r': dims [3] FLOAT need 12 bytes, raw_data holds 8");
    }

    /** The fixture with fec.weight moved to an external file at {@code location}, 16 bytes in. */
    private Path withExternal(String location, Path dataFile, boolean writeData) throws IOException {
        ModelProto m = fixtureProto("deepfever-mini");
        GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (!t.getName().equals("fec.weight")) continue;
            byte[] raw = t.getRawData().toByteArray();
            if (writeData) {
                Files.createDirectories(dataFile.getParent());
                Files.write(dataFile, TestFiles.concat(new byte[16], raw, new byte[5]));
            }
            g.setInitializer(i, t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location))
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue("16"))
                    .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(String.valueOf(raw.length))));
        }
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        Path p = dir.resolve("model.onnx");
        Files.write(p, m.toBuilder().setGraph(g).build().toByteArray());
        return p;
    }

    @Test
    void readsExternalData() throws IOException {
        Path p = withExternal("weights/fec.bin", tmp.resolve("model/weights/fec.bin"), true);
        try (OnnxModel m = OnnxReader.read(p); WeightFile st = SafetensorsReader.read(TestFiles.mini("model.safetensors"))) {
            Tensor t = m.initializers().get("fec.weight");
            assertTrue(TestFiles.isMapped(t), "external data is mapped");
            assertBitExact("fec.weight", st.tensor("fec.weight"), t);
        }
        Path missing = withExternal("weights/none.bin", tmp.resolve("unused"), false);
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(missing)).getMessage(),
                "model.onnx: tensor 'fec.weight': external data file 'weights/none.bin' not found");
        Path dataFile = tmp.resolve("model/short.bin");
        Files.write(dataFile, new byte[64]);
        Path shortFile = withExternal("short.bin", dataFile, false);
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(shortFile)).getMessage(),
                "tensor 'fec.weight': external data [16, +2048) lies outside 'short.bin' of 64 bytes"); // [32, 16] floats
    }

    @Test
    void refusesExternalDataOutsideTheModelDirectory() throws IOException {
        Files.write(tmp.resolve("secret.bin"), new byte[8192]);
        Path up = withExternal("../secret.bin", tmp.resolve("unused"), false);
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(up)).getMessage(),
                "tensor 'fec.weight': external data location '../secret.bin' escapes the model's directory");
        Path sneaky = withExternal("weights/../../secret.bin", tmp.resolve("unused"), false);
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(sneaky)).getMessage(), "escapes");
        Path abs = withExternal(tmp.resolve("secret.bin").toString(), tmp.resolve("unused"), false);
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(abs)).getMessage(), "is absolute");
        Files.createSymbolicLink(tmp.resolve("model/link.bin"), tmp.resolve("secret.bin"));
        Path link = withExternal("link.bin", tmp.resolve("unused"), false);
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(link)).getMessage(), "escapes", "link");
    }

    @Test
    void refusesUnsupportedOpsetsAndDamagedFiles() throws IOException {
        ModelProto m = fixtureProto("deepfever-mini");
        for (long v : new long[] {12, 18}) {
            ModelProto o = m.toBuilder().setOpsetImport(0, OperatorSetIdProto.newBuilder().setVersion(v)).build();
            assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(write("op" + v + ".onnx", o))).getMessage(),
                    "op" + v + ".onnx: ONNX opset " + v + " is not supported (supported: 13 to 17)");
        }
        ModelProto other = m.toBuilder().setOpsetImport(0, OperatorSetIdProto.newBuilder().setDomain("com.example").setVersion(1)).build();
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(write("dom.onnx", other))).getMessage(), "no opset for the default domain");
        Path src = TestFiles.mini("model.onnx");
        for (long cut : new long[] {0, 1000, Files.size(src) / 2, Files.size(src) - 1}) {
            Path p = TestFiles.truncate(src, tmp.resolve("cut" + cut + ".onnx"), cut);
            assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(p)).getMessage(), "cut" + cut + ".onnx: ");
        }
        Path junk = tmp.resolve("junk.onnx");
        Files.writeString(junk, "definitely not protobuf \u00ff\u00ff\u00ff");
        assertContains(assertThrows(ModelFormatException.class, () -> OnnxReader.read(junk)).getMessage(), "junk.onnx: ");
    }

    @Test
    void closeReleasesTheMapping() throws IOException {
        OnnxModel m = OnnxReader.read(TestFiles.mini("model.onnx"));
        Tensor t = m.initializers().get("fec.weight");
        String firstOp = m.graph().getNode(0).getOpType();
        m.close();
        m.close();
        assertThrows(IllegalStateException.class, () -> t.get(0, 0));
        assertEquals(firstOp, m.graph().getNode(0).getOpType(), "strings stay readable after close");
    }
}
