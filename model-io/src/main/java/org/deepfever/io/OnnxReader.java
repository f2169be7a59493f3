package org.deepfever.io;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
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

    /** Maps, parses and validates an ONNX model file. */
    public static OnnxModel read(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MappedFile f = MappedFile.map(path, arena);
            if (f.size() == 0) throw f.error("empty file, not an ONNX model");
            if (f.size() > Integer.MAX_VALUE) throw f.error("model of " + f.size() + " bytes exceeds protobuf's 2 GB limit; store the weights as external data");
            // protobuf-java 4.x copies direct buffers instead of aliasing them, so the initializers'
            // raw_data is located in the mapping first and protobuf parses the rest.
            OnnxWire.Stripped stripped = OnnxWire.strip(f);
            ModelProto proto;
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
