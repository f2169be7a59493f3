package org.deepfever.io;

import static org.deepfever.io.BrokenFiles.assertLoadsOrRefused;
import static org.deepfever.io.BrokenFiles.assertRefused;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.deepfever.io.onnx.proto.Onnx.GraphProto;
import org.deepfever.io.onnx.proto.Onnx.ModelProto;
import org.deepfever.io.onnx.proto.Onnx.NodeProto;
import org.deepfever.io.onnx.proto.Onnx.OperatorSetIdProto;
import org.deepfever.io.onnx.proto.Onnx.StringStringEntryProto;
import org.deepfever.io.onnx.proto.Onnx.TensorProto;
import org.deepfever.io.onnx.proto.Onnx.TensorShapeProto;
import org.deepfever.io.onnx.proto.Onnx.TypeProto;
import org.deepfever.io.onnx.proto.Onnx.ValueInfoProto;
import org.deepfever.model.OnnxGraphConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken ONNX models, made at run time from the golden mini model.onnx and from the fuzz seed
 * graph: reading and converting each gives one ModelFormatException naming the file (and the
 * tensor or node at fault) and saying what is wrong; nothing of the file stays open or mapped.
 */
class BrokenOnnxTest {
    @TempDir Path tmp;

    /** Reads and converts, as loading a model does; the model is closed if conversion fails. */
    private static AutoCloseable readAndConvert(Path p) throws IOException {
        OnnxModel m = OnnxReader.read(p);
        try {
            OnnxGraphConverter.convert(m);
            return m;
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static ModelProto seed() throws IOException {
        return ModelProto.parseFrom(FuzzSeeds.onnx());
    }

    private Path write(String name, ModelProto m) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, m.toByteArray());
        return p;
    }

    private Path withGraph(String name, GraphProto g) throws IOException {
        return write(name, seed().toBuilder().setGraph(g).build());
    }

    private static int node(GraphProto g, String output) {
        for (int i = 0; i < g.getNodeCount(); i++) if (g.getNode(i).getOutput(0).equals(output)) return i;
        throw new AssertionError("no node makes " + output);
    }

    // ---- the golden model, cut and flipped -----------------------------------------------------

    @Test
    void everyTruncationOfTheGoldenModelIsRefused() throws IOException {
        BrokenFiles.assertEveryTruncationRefused(TestFiles.mini("model.onnx"), tmp.resolve("cut.onnx"), OnnxReader::read);
    }

    @Test
    void bitFlipsInTheGraphStructureLoadOrAreRefused() throws IOException {
        byte[] all = Files.readAllBytes(TestFiles.mini("model.onnx"));
        Random r = new Random(17);
        Path p = tmp.resolve("flip.onnx");
        for (int i = 0; i < 300; i++) {
            // nodes come first in the graph, ahead of the initializers' data
            Files.write(p, BrokenFiles.flipBits(all, r, 1 + i % 3, 0, Math.min(all.length, 16384)));
            assertLoadsOrRefused(p, BrokenOnnxTest::readAndConvert);
        }
    }

    @Test
    void emptyAndNonOnnxFiles() throws IOException {
        Path empty = tmp.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        assertRefused(empty, OnnxReader::read, "empty file, not an ONNX model");
        Path text = tmp.resolve("text.onnx");
        Files.writeString(text, "<html>not a model</html>\n");
        assertRefused(text, OnnxReader::read, "not a valid ONNX model");
        assertRefused(write("nograph.onnx", seed().toBuilder().clearGraph().build()), OnnxReader::read, "ONNX model has no graph");
        assertRefused(write("noopset.onnx", seed().toBuilder().clearOpsetImport().build()), OnnxReader::read, "imports no opset for the default domain");
        assertRefused(write("opset9.onnx", seed().toBuilder().setOpsetImport(0, OperatorSetIdProto.newBuilder().setVersion(9)).build()),
                OnnxReader::read, "ONNX opset 9 is not supported (supported: 13 to 17)");
    }

    @Test
    void lengthsPointingOutsideTheFile() throws IOException {
        byte[] b = FuzzSeeds.onnx();
        // the graph field (7, length-delimited: tag 0x3a) claims far more bytes than follow
        int at = 0;
        while (b[at] != 0x3a) at++;
        byte[] big = new byte[b.length + 4];
        System.arraycopy(b, 0, big, 0, at + 1);
        big[at + 1] = (byte) 0xff;
        big[at + 2] = (byte) 0xff;
        big[at + 3] = (byte) 0xff;
        big[at + 4] = (byte) 0xff;
        big[at + 5] = 0x0f;
        System.arraycopy(b, at + 2, big, at + 6, b.length - at - 2);
        Path p = tmp.resolve("length.onnx");
        Files.write(p, big);
        assertRefused(p, OnnxReader::read, "field 7 of 4294967295 bytes runs past its message");
        byte[] varint = {0x08, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01};
        Path v = tmp.resolve("varint.onnx");
        Files.write(v, varint);
        assertRefused(v, OnnxReader::read, "varint longer than 10 bytes");
    }

    @Test
    void initializerDimsDisagreeingWithTheirData() throws IOException {
        GraphProto g = seed().getGraph();
        TensorProto w1 = g.getInitializer(0);
        assertRefused(withGraph("short.onnx", g.toBuilder().setInitializer(0, w1.toBuilder().setRawData(w1.getRawData().substring(4))).build()),
                OnnxReader::read, "tensor 'w1'", "dims [4, 3, 3, 3] FLOAT need 432 bytes, raw_data holds 428");
        assertRefused(withGraph("huge.onnx", g.toBuilder().setInitializer(0, w1.toBuilder().clearDims().addDims(2147483647).addDims(2147483647)
                .addDims(2147483647).setRawData(ByteString.copyFrom(new byte[4]))).build()), OnnxReader::read, "tensor 'w1'", "are too large");
        assertRefused(withGraph("negative.onnx", g.toBuilder().setInitializer(0, w1.toBuilder().setDims(0, -4)).build()),
                OnnxReader::read, "tensor 'w1'", "bad dims [-4, 3, 3, 3]");
        TensorProto ints = TensorProto.newBuilder().setName("shape").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1 << 30).addInt64Data(1).build();
        assertRefused(withGraph("ints.onnx", g.toBuilder().addInitializer(ints).build()), OnnxReader::read,
                "tensor 'shape'", "dims [1073741824] need 1073741824 values, int64_data holds 1");
        TensorProto external = w1.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("../../etc/passwd")).build();
        assertRefused(withGraph("escape.onnx", g.toBuilder().setInitializer(0, external).build()), OnnxReader::read,
                "tensor 'w1'", "escapes the model's directory");
    }

    @Test
    void unsupportedDtypesAndDuplicateNames() throws IOException {
        GraphProto g = seed().getGraph();
        TensorProto w1 = g.getInitializer(0);
        assertRefused(withGraph("double.onnx", g.toBuilder().setInitializer(0, w1.toBuilder().setDataType(TensorProto.DataType.DOUBLE_VALUE)).build()),
                OnnxReader::read, "tensor 'w1'", "unsupported data type DOUBLE");
        assertRefused(withGraph("dup.onnx", g.toBuilder().setInitializer(1, w1).build()), OnnxReader::read, "tensor 'w1'", "initializer defined twice");
    }

    @Test
    void graphsWithCyclesMissingInputsOrUnsupportedOps() throws IOException {
        GraphProto g = seed().getGraph();
        // r1 = Relu(c1) becomes Relu(r2): r2 is made later from r1's descendants, a cycle
        int relu = node(g, "r1");
        GraphProto cycle = g.toBuilder().setNode(relu, g.getNode(relu).toBuilder().setInput(0, "r2")).build();
        assertRefused(withGraph("cycle.onnx", cycle), BrokenOnnxTest::readAndConvert, "node Relu_r1 (Relu)", "input 0 'r2' is not defined before this node");
        GraphProto self = g.toBuilder().setNode(relu, g.getNode(relu).toBuilder().setInput(0, "r1")).build();
        assertRefused(withGraph("self.onnx", self), BrokenOnnxTest::readAndConvert, "input 0 'r1' is not defined before this node");
        GraphProto missing = g.toBuilder().setNode(relu, g.getNode(relu).toBuilder().setInput(0, "nowhere")).build();
        assertRefused(withGraph("missing.onnx", missing), BrokenOnnxTest::readAndConvert, "node Relu_r1 (Relu)", "'nowhere' is not defined");
        GraphProto noInput = g.toBuilder().setNode(relu, g.getNode(relu).toBuilder().clearInput()).build();
        assertRefused(withGraph("noinput.onnx", noInput), BrokenOnnxTest::readAndConvert, "node Relu_r1 (Relu)", "malformed node");
        GraphProto lstm = g.toBuilder().addNode(NodeProto.newBuilder().setOpType("LSTM").setName("rnn").addInput("features").addOutput("h"))
                .addNode(NodeProto.newBuilder().setOpType("NonMaxSuppression").setName("nms").addInput("h").addOutput("boxes")).build();
        assertRefused(withGraph("ops.onnx", lstm), BrokenOnnxTest::readAndConvert, "unsupported ONNX ops: LSTM (node rnn), NonMaxSuppression (node nms)");
        GraphProto noOutput = g.toBuilder().setOutput(0, g.getOutput(0).toBuilder().setName("ghost")).build();
        assertRefused(withGraph("output.onnx", noOutput), BrokenOnnxTest::readAndConvert, "graph output 'ghost' is not computed");
    }

    @Test
    void inputShapesOutOfRange() throws IOException {
        GraphProto g = seed().getGraph();
        // found by OnnxFuzzTest: a rank-0 input escaped as ArrayIndexOutOfBoundsException, a repeated one as IllegalArgumentException
        ValueInfoProto scalar = g.getInput(0).toBuilder().setType(g.getInput(0).getType().toBuilder()
                .setTensorType(g.getInput(0).getType().getTensorType().toBuilder().setShape(TensorShapeProto.getDefaultInstance()))).build();
        assertRefused(withGraph("scalar.onnx", g.toBuilder().setInput(0, scalar).build()), BrokenOnnxTest::readAndConvert,
                "input 'input' has no dimensions");
        assertRefused(withGraph("twice.onnx", g.toBuilder().addInput(g.getInput(0)).build()), BrokenOnnxTest::readAndConvert,
                "input 'input': duplicate input input");
        for (long bad : List.of(1L << 40, -3L)) {
            ValueInfoProto in = g.getInput(0);
            TypeProto.Tensor tt = in.getType().getTensorType();
            TensorShapeProto shape = tt.getShape().toBuilder().setDim(2, TensorShapeProto.Dimension.newBuilder().setDimValue(bad)).build();
            ValueInfoProto changed = in.toBuilder().setType(in.getType().toBuilder().setTensorType(tt.toBuilder().setShape(shape))).build();
            assertRefused(withGraph("input.onnx", g.toBuilder().setInput(0, changed).build()), BrokenOnnxTest::readAndConvert,
                    "input 'input': dim 2 is " + bad + ", not a size");
        }
    }
}
