package org.deepfever.io;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.deepfever.io.onnx.proto.Onnx.AttributeProto;
import org.deepfever.io.onnx.proto.Onnx.GraphProto;
import org.deepfever.io.onnx.proto.Onnx.ModelProto;
import org.deepfever.io.onnx.proto.Onnx.NodeProto;
import org.deepfever.io.onnx.proto.Onnx.OperatorSetIdProto;
import org.deepfever.io.onnx.proto.Onnx.TensorProto;
import org.deepfever.io.onnx.proto.Onnx.TensorShapeProto;
import org.deepfever.io.onnx.proto.Onnx.TypeProto;
import org.deepfever.io.onnx.proto.Onnx.ValueInfoProto;

/**
 * Small valid inputs that start the fuzzers off inside each format (a fuzzer starting from nothing
 * rarely guesses a zip directory or a protobuf graph). They are made here, byte for byte
 * deterministic, and committed under {@code src/test/resources/.../<Target>Inputs/<method>/} where
 * Jazzer replays them in every plain test run and seeds its corpus from them when fuzzing;
 * {@link FuzzSeedsTest} checks that the committed files are exactly what this class makes and that
 * each one loads.
 */
final class FuzzSeeds {
    private FuzzSeeds() {}

    /** Seeds by file name for each fuzz target, keyed by the target's resource folder. */
    static Map<String, Map<String, byte[]>> all() throws IOException {
        Map<String, Map<String, byte[]>> out = new LinkedHashMap<>();
        out.put("NpyFuzzTestInputs/npy", npy());
        out.put("SafetensorsFuzzTestInputs/safetensors", safetensors());
        Map<String, byte[]> pth = pth();
        out.put("PthFuzzTestInputs/pth", pth);
        Map<String, byte[]> pickles = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : pth.entrySet()) {
            if (e.getKey().endsWith("-deflated.pth")) continue; // same pickle as the stored one
            pickles.put("seed-" + e.getKey().replace("seed-", "").replace(".pth", ".pkl"), dataPkl(e.getValue()));
        }
        out.put("UnpicklerFuzzTestInputs/unpickler", pickles);
        out.put("OnnxFuzzTestInputs/onnx", new LinkedHashMap<>(Map.of("seed-tiny.onnx", onnx())));
        out.put("TfjsFuzzTestInputs/tfjs", tfjs());
        regressions().forEach((target, inputs) -> out.get(target).putAll(inputs));
        return out;
    }

    /**
     * Inputs that broke a reader before it was fixed (found by the broken-input corpus and kept
     * here so that every fuzz target replays them): each must now be refused cleanly, within the
     * allocation bound.
     */
    static Map<String, Map<String, byte[]>> regressions() throws IOException {
        Map<String, Map<String, byte[]>> out = new LinkedHashMap<>();
        Map<String, byte[]> pth = new LinkedHashMap<>();
        // a deflated entry declaring 2 GB: the output buffer was allocated at the declared size
        byte[] bomb = rezip(Files.readAllBytes(TestFiles.resource("pth/param.pth")), true);
        ByteBuffer b = ByteBuffer.wrap(bomb).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = b.getInt(bomb.length - 22 + 16); b.getInt(p) == 0x02014b50; p += 46 + b.getShort(p + 28) + b.getShort(p + 30) + b.getShort(p + 32)) {
            b.putInt(p + 24, 2_000_000_000);
        }
        pth.put("regression-deflate-size-claim.pth", bomb);
        // a stride-0 view of 2^31-1 elements over one stored float: it was copied out at full size
        pth.put("regression-expanded-view.pth", checkpoint(Pickle.oneTensor("w", "FloatStorage", 1, 0, new long[] {Integer.MAX_VALUE}, new long[] {0}), 4));
        out.put("PthFuzzTestInputs/pth", pth);
        Pickle dup = new Pickle().proto().global("collections", "OrderedDict").op(')', 'R', '(');
        dup.str("w").tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1});
        dup.str("w").tensor("FloatStorage", "0", 4, 0, new long[] {2}, new long[] {1});
        out.put("UnpicklerFuzzTestInputs/unpickler", new LinkedHashMap<>(Map.of("regression-duplicate-key.pkl", dup.op('u', '.').bytes())));
        Map<String, byte[]> onnx = new LinkedHashMap<>();
        ModelProto seed = ModelProto.parseFrom(onnx());
        GraphProto g = seed.getGraph();
        // int64_data of one value claiming 2^30 elements: 8 GB were allocated before the count was checked
        onnx.put("regression-int64-count-claim.onnx", seed.toBuilder().setGraph(g.toBuilder().addInitializer(TensorProto.newBuilder().setName("shape")
                .setDataType(TensorProto.DataType.INT64_VALUE).addDims(1 << 30).addInt64Data(1))).build().toByteArray());
        // an input dim beyond int: ArithmeticException escaped
        ValueInfoProto in = g.getInput(0);
        TypeProto.Tensor tt = in.getType().getTensorType();
        TensorShapeProto shape = tt.getShape().toBuilder().setDim(2, TensorShapeProto.Dimension.newBuilder().setDimValue(1L << 40)).build();
        onnx.put("regression-input-dim-overflow.onnx", seed.toBuilder().setGraph(g.toBuilder().setInput(0,
                in.toBuilder().setType(in.getType().toBuilder().setTensorType(tt.toBuilder().setShape(shape))))).build().toByteArray());
        // a node without inputs, and a conv weight of rank 1: IndexOutOfBoundsException escaped
        onnx.put("regression-node-without-inputs.onnx", seed.toBuilder().setGraph(g.toBuilder().setNode(1, g.getNode(1).toBuilder().clearInput())).build().toByteArray());
        TensorProto w1 = g.getInitializer(0);
        onnx.put("regression-conv-weight-rank.onnx", seed.toBuilder().setGraph(g.toBuilder().setInitializer(0, w1.toBuilder().clearDims().addDims(108))).build().toByteArray());
        out.put("OnnxFuzzTestInputs/onnx", onnx);
        return out;
    }

    /** A deterministic stored zip of a checkpoint: archive/data.pkl, one storage archive/data/0 of zeros, archive/version. */
    static byte[] checkpoint(byte[] pickle, int storageBytes) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        entries.put("archive/data/0", new byte[storageBytes]);
        entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        return zip(entries, false);
    }

    // ---- .npy ----------------------------------------------------------------------------------

    static Map<String, byte[]> npy() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("seed-f4-2x3.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", le(4, 6)));
        m.put("seed-f8-3.npy", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", le(8, 3)));
        m.put("seed-f2-2x2.npy", npy(2, "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }", le(2, 4)));
        m.put("seed-f4-scalar-v3.npy", npy(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", le(4, 1)));
        return m;
    }

    /** A .npy file of format {@code version} with that header dict (padded to 16 bytes, newline-terminated). */
    static byte[] npy(int version, String dict, byte[] data) {
        int pre = version == 1 ? 10 : 12;
        int total = (pre + dict.length() + 1 + 15) / 16 * 16;
        String header = dict + " ".repeat(total - pre - dict.length() - 1) + "\n";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(pre + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        if (version == 1) b.putShort((short) h.length); else b.putInt(h.length);
        return b.put(h).put(data).array();
    }

    /** {@code n} elements of {@code size} bytes each, a simple ramp of small bit patterns (any is a valid float). */
    static byte[] le(int size, int n) {
        byte[] d = new byte[size * n];
        for (int i = 0; i < d.length; i++) d[i] = (byte) (i % size == size - 1 ? 0x3c : i * 7);
        return d;
    }

    // ---- TF.js ----------------------------------------------------------------------------------

    /** Inputs of {@link TfjsFuzzTest}: manifest, a 0 byte, shard bytes (first half a.bin, the rest b.bin). */
    static Map<String, byte[]> tfjs() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        // one group over both shards: float32 [2,2] then uint8 [3], the split falling inside the uint8 tensor
        m.put("seed-two-shards.bin", tfjs("[{\"paths\":[\"a.bin\",\"b.bin\"],\"weights\":["
                + "{\"name\":\"w\",\"shape\":[2,2],\"dtype\":\"float32\"},"
                + "{\"name\":\"q8\",\"shape\":[3],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.5,\"min\":-1.25}}]}]", le(4, 4), new byte[] {0, (byte) 255, 10}));
        // a model.json with two groups of one shard each: uint16, float16, skipped int32, a scalar; uint8-quantized int32, float32
        m.put("seed-model-json.bin", tfjs("{\"format\":\"layers-model\",\"weightsManifest\":["
                + "{\"paths\":[\"a.bin\"],\"weights\":["
                + "{\"name\":\"q16\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint16\",\"scale\":0.001,\"min\":2}},"
                + "{\"name\":\"h\",\"shape\":[1,2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"float16\"}},"
                + "{\"name\":\"steps\",\"shape\":[1],\"dtype\":\"int32\"},"
                + "{\"name\":\"s\",\"shape\":[],\"dtype\":\"float32\",\"quantization\":null}]},"
                + "{\"paths\":[\"b.bin\"],\"weights\":["
                + "{\"name\":\"ids\",\"shape\":[4],\"dtype\":\"int32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":1,\"min\":0}},"
                + "{\"name\":\"f\",\"shape\":[3,1],\"dtype\":\"float32\"}]}]}", le(2, 4), le(4, 2), le(1, 4), le(4, 3)));
        return m;
    }

    /** A {@link TfjsFuzzTest} input: the manifest, a 0 byte, then the parts back to back. */
    static byte[] tfjs(String manifest, byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(manifest.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    // ---- safetensors --------------------------------------------------------------------------

    static Map<String, byte[]> safetensors() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("seed-mixed.safetensors", safetensors(
                "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[22,26]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[26,34]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[34,34]}}", le(2, 17)));
        m.put("seed-one.safetensors", safetensors("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", le(4, 3)));
        return m;
    }

    static byte[] safetensors(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data).array();
    }

    // ---- .pth and its pickle ------------------------------------------------------------------

    /** The small torch.save checkpoints of PthReaderTest, each also re-zipped with deflated entries. */
    static Map<String, byte[]> pth() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (String name : List.of("param", "dtypes", "nested", "strided")) {
            byte[] stored = Files.readAllBytes(TestFiles.resource("pth/" + name + ".pth"));
            m.put("seed-" + name + ".pth", stored);
            if (name.equals("dtypes") || name.equals("nested")) m.put("seed-" + name + "-deflated.pth", rezip(stored, true));
        }
        return m;
    }

    /** The archive's data.pkl entry. */
    static byte[] dataPkl(byte[] pth) throws IOException {
        for (Map.Entry<String, byte[]> e : unzip(pth).entrySet()) if (e.getKey().endsWith("/data.pkl")) return e.getValue();
        throw new IOException("no data.pkl");
    }

    static Map<String, byte[]> unzip(byte[] zip) throws IOException {
        Path tmp = Files.createTempFile("fever-seed", ".zip");
        try {
            Files.write(tmp, zip);
            return TestFiles.unzip(tmp);
        } finally {
            Files.delete(tmp);
        }
    }

    /** The same entries zipped again (deterministically: fixed timestamps), stored or deflated. */
    static byte[] rezip(byte[] zip, boolean deflate) throws IOException {
        return zip(unzip(zip), deflate);
    }

    /** The entries zipped deterministically (fixed timestamps), stored or deflated. */
    static byte[] zip(Map<String, byte[]> entries, boolean deflate) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                ze.setTime(315532800000L); // 1980-01-01, the zip epoch
                if (deflate) {
                    ze.setMethod(ZipEntry.DEFLATED);
                } else {
                    ze.setMethod(ZipEntry.STORED);
                    ze.setSize(e.getValue().length);
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setCrc(crc.getValue());
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    // ---- ONNX ---------------------------------------------------------------------------------

    /**
     * A DeepFEVER-shaped toy: conv+relu, batch norm, max pool, the scaled residual (Conv, Mul by a
     * Constant, Add, Relu), concat, global average pool, flatten (features), Gemm (logits) and the
     * exported F.normalize pattern (embedding), on a [N,3,6,6] input.
     */
    static byte[] onnx() {
        GraphProto g = GraphProto.newBuilder().setName("seed")
                .addInput(value("input", 3, 6, 6))
                .addInitializer(floats("w1", 4, 3, 3, 3))
                .addInitializer(floats("b1", 4))
                .addInitializer(floats("bn_scale", 4)).addInitializer(floats("bn_bias", 4))
                .addInitializer(floats("bn_mean", 4)).addInitializer(positive("bn_var", 4))
                .addInitializer(floats("w2", 4, 4, 1, 1))
                .addInitializer(floats("fc_w", 5, 8)).addInitializer(floats("fc_b", 5))
                .addInitializer(TensorProto.newBuilder().setName("eps").setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(1e-12f))
                .addNode(node("Conv", List.of("input", "w1", "b1"), "c1", ints("pads", 1, 1, 1, 1), ints("kernel_shape", 3, 3)))
                .addNode(node("Relu", List.of("c1"), "r1"))
                .addNode(node("BatchNormalization", List.of("r1", "bn_scale", "bn_bias", "bn_mean", "bn_var"), "bn"))
                .addNode(node("MaxPool", List.of("bn"), "mp", ints("kernel_shape", 2, 2), ints("strides", 2, 2)))
                .addNode(node("Constant", List.of(), "scale", AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                        .setT(TensorProto.newBuilder().setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(0.17f)).build()))
                .addNode(node("Conv", List.of("mp", "w2"), "c2"))
                .addNode(node("Mul", List.of("c2", "scale"), "scaled"))
                .addNode(node("Add", List.of("scaled", "mp"), "sum"))
                .addNode(node("Relu", List.of("sum"), "r2"))
                .addNode(node("Concat", List.of("r2", "mp"), "cat", AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(1).build()))
                .addNode(node("GlobalAveragePool", List.of("cat"), "gap"))
                .addNode(node("Flatten", List.of("gap"), "features"))
                .addNode(node("Gemm", List.of("features", "fc_w", "fc_b"), "logits",
                        AttributeProto.newBuilder().setName("transB").setType(AttributeProto.AttributeType.INT).setI(1).build()))
                .addNode(node("ReduceL2", List.of("features"), "norm", ints("axes", 1),
                        AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(1).build()))
                .addNode(node("Clip", List.of("norm", "eps"), "clipped"))
                .addNode(node("Shape", List.of("features"), "shape"))
                .addNode(node("Expand", List.of("clipped", "shape"), "expanded"))
                .addNode(node("Div", List.of("features", "expanded"), "embedding"))
                .addOutput(value("features", 8)).addOutput(value("embedding", 8)).addOutput(value("logits", 5))
                .build();
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("fuzz-seed")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build().toByteArray();
    }

    private static ValueInfoProto value(String name, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        for (long d : dims) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))).build();
    }

    private static NodeProto node(String op, List<String> in, String out, AttributeProto... attrs) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(op + "_" + out).addAllInput(in).addOutput(out);
        for (AttributeProto a : attrs) b.addAttribute(a);
        return b.build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }

    /** A float32 raw_data initializer with small deterministic values in [-0.5, 0.5). */
    private static TensorProto floats(String name, long... dims) {
        long n = 1;
        for (long d : dims) n *= d;
        ByteBuffer b = ByteBuffer.allocate((int) n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(((i * 37 + name.length()) % 64) / 64f - 0.5f);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.flip()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    private static TensorProto positive(String name, long n) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(n);
        for (int i = 0; i < n; i++) t.addFloatData(1 + i / 4f);
        return t.build();
    }
}
