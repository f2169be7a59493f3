package org.deepfever.io;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deepfever.io.onnx.proto.Onnx.ModelProto;
import org.deepfever.io.onnx.proto.Onnx.OperatorSetIdProto;

/**
 * Reads ONNX models (opsets 13 to 17 of the default domain) from a memory-mapped file. The graph
 * initializers' raw_data is located in the mapping by a wire-format pass and never copied (it is
 * left out of the parsed {@code ModelProto}); protobuf parses the remaining graph structure. External data files
 * (data_location = EXTERNAL) are mapped too; their location must stay inside the model's directory.
 */
public final class OnnxReader {
    /** The lowest and highest default-domain opset versions accepted. */
    public static final int MIN_OPSET = 13, MAX_OPSET = 17;

    private OnnxReader() {}

    /**
     * A tiny serialized model (a graph with a node, an attribute, an initializer, a typed input and
     * an opset import): parsing it initialises protobuf and the ONNX message classes, which in a
     * fresh JVM takes tens of milliseconds.
     */
    private static final byte[] TINY_MODEL = {8, 8, 58, 72, 10, 25, 10, 1, 120, 18, 1, 121, 26, 1, 110, 34, 4, 82, 101, 108, 117, 42, 8,
            10, 1, 97, 64, 1, -96, 1, 7, 18, 1, 103, 42, 13, 8, 1, 16, 1, 34, 4, 0, 0, 0, 0, 66, 1, 119, 90, 20, 10, 1, 120, 18, 15, 10,
            13, 8, 1, 18, 9, 10, 3, 18, 1, 78, 10, 2, 8, 3, 98, 3, 10, 1, 121, 66, 4, 10, 0, 16, 13};

    /** Protobuf's initialisation, run once per JVM on a background thread while the first model file is mapped and scanned. */
    private static final FutureTask<Object> PROTOBUF_INIT = new FutureTask<>(() -> ModelProto.parseFrom(TINY_MODEL));
    private static final AtomicBoolean PROTOBUF_INIT_STARTED = new AtomicBoolean();

    private static void startProtobufInit() {
        if (!PROTOBUF_INIT_STARTED.compareAndSet(false, true)) return;
        try {
            Thread t = new Thread(PROTOBUF_INIT, "fever-onnx-init");
            t.setDaemon(true);
            t.start();
        } catch (RuntimeException | OutOfMemoryError e) {
            PROTOBUF_INIT.run(); // no thread: do it here
        }
    }

    /** Waits until the initialisation is done, so that protobuf classes are never initialised by two threads at once. */
    private static void awaitProtobufInit() {
        boolean interrupted = false;
        while (true) {
            try {
                PROTOBUF_INIT.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                break; // the real parse reports any problem
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Maps, parses and validates an ONNX model file. */
    public static OnnxModel read(Path path) throws IOException {
        startProtobufInit();
        Arena arena = Arena.ofShared();
        try {
            MappedFile f = MappedFile.map(path, arena);
            if (f.size() == 0) throw f.error("empty file, not an ONNX model");
            if (f.size() > Integer.MAX_VALUE) throw f.error("model of " + f.size() + " bytes exceeds protobuf's 2 GB limit; store the weights as external data");
            // protobuf's Java runtime (4.x) copies direct buffers instead of aliasing them, so the initializers'
            // raw_data is located in the mapping first and protobuf parses the rest.
            OnnxWire.Stripped stripped = OnnxWire.strip(f);
            ModelProto proto;
            awaitProtobufInit();
            try {
                proto = ModelProto.parseFrom(stripped.model());
            } catch (InvalidProtocolBufferException e) {
                throw new ModelFormatException(path, null, "not a valid ONNX model (truncated or corrupt protobuf): " + e.getMessage(), e);
            }
            if (!proto.hasGraph()) throw f.error("ONNX model has no graph");
            long opset = -1;
            for (OperatorSetIdProto o : proto.getOpsetImportList()) {
                if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) opset = o.getVersion();
            }
            if (opset < 0) throw f.error("ONNX model imports no opset for the default domain");
            if (opset < MIN_OPSET || opset > MAX_OPSET) {
                throw f.error("ONNX opset " + opset + " is not supported (supported: " + MIN_OPSET + " to " + MAX_OPSET + "); re-export with opset_version=" + MIN_OPSET + ".." + MAX_OPSET);
            }
            if (proto.getGraph().getInitializerCount() != stripped.rawData().size()) {
                throw f.error("graph holds " + proto.getGraph().getInitializerCount() + " initializers but " + stripped.rawData().size() + " were scanned");
            }
            return new OnnxModel(f, arena, proto, opset, stripped.rawData());
        } catch (IOException | RuntimeException | Error e) {
            MappedFile.closeQuietly(arena);
            throw e;
        }
    }
}
