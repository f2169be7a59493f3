package org.deepfever.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.deepfever.core.Tensor;
import org.deepfever.core.graph.Graph;
import org.deepfever.io.ModelFormatException;
import org.deepfever.io.OnnxModel;
import org.deepfever.io.OnnxReader;
import org.deepfever.io.WeightFile;
import org.deepfever.model.DeepFeverGraphBuilder;
import org.deepfever.model.DeepFeverLayout;
import org.deepfever.model.ModelLoadException;
import org.deepfever.model.OnnxGraphConverter;
import org.deepfever.model.SeededWeights;

/**
 * Model files the engine reads, recognised by their first bytes: a {@code torch.save} zip checkpoint
 * or safetensors file holding a DeepFEVER state dict (the graph is built from the keys and shapes),
 * or an ONNX model (the graph is the file's own). Weight files stay memory-mapped while the model is
 * open. Weights holding NaN or infinity load, with a warning per tensor (System.Logger
 * {@code org.deepfever}, WARNING) naming it.
 */
public final class ModelFiles {
    private ModelFiles() {}

    /** A model file turned into a graph, with what is needed to describe and release it. */
    public record Loaded(Path path, String format, Graph graph, DeepFeverLayout layout, Map<String, String> tapNodes,
                         long parameters, AutoCloseable resource) implements AutoCloseable {
        @Override
        public void close() {
            try {
                if (resource != null) resource.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + path + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Loads a model file. Errors name the file and, where there is one, the culprit tensor or node.
     * A thread interrupted while the file is read gets a ModelLoadException saying so, with its
     * interrupt flag still set and nothing of the file left open.
     *
     * @throws ModelLoadException the file is missing, unreadable, malformed, not a DeepFEVER model, or the load was interrupted
     */
    public static Loaded load(Path path) {
        if (!Files.isRegularFile(path)) throw new ModelLoadException(path + ": no such model file");
        try {
            return isOnnx(path) ? loadOnnx(path) : loadStateDict(path);
        } catch (ClosedByInterruptException e) {
            // the thread was interrupted while reading: its interrupt flag stays set for the caller
            throw new ModelLoadException(path + ": loading was interrupted", e);
        } catch (IOException e) {
            throw new ModelLoadException(namingFile(path, e), e);
        } catch (UncheckedIOException e) {
            throw new ModelLoadException(namingFile(path, e.getCause()), e.getCause());
        }
    }

    /** The exception's message, prefixed with the file unless it already starts with it (readers' errors do). */
    private static String namingFile(Path path, IOException e) {
        String m = e.getMessage();
        if (m != null && m.startsWith(path.toString())) return m;
        return path + ": " + (m == null ? e.toString() : m);
    }

    /** The built-in full-size layout with seeded, UNTRAINED weights (see {@link SeededWeights}). */
    public static Loaded untrainedDefault() {
        Map<String, Tensor> sd = SeededWeights.fullSize(SeededWeights.DEFAULT_SEED);
        var built = DeepFeverGraphBuilder.build("built-in untrained weights", sd);
        return new Loaded(Path.of("(built-in untrained seeded weights)"), "built-in (untrained, seed " + SeededWeights.DEFAULT_SEED + ")",
                built.graph(), built.layout(), built.tapNodes(), count(sd), null);
    }

    private static boolean isOnnx(Path path) throws IOException {
        byte[] head = new byte[8];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        }
        boolean zip = n >= 4 && head[0] == 'P' && head[1] == 'K';
        boolean safetensors = n == 8 && head[6] == 0 && head[7] == 0 && !path.toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
        // ONNX files start with protobuf field 1 (ir_version, varint): tag byte 0x08.
        return !zip && !safetensors && (head[0] == 0x08 || path.toString().toLowerCase(Locale.ROOT).endsWith(".onnx"));
    }

    private static Loaded loadStateDict(Path path) throws IOException {
        WeightFile wf = WeightFile.open(path);
        try {
            NonFiniteWeights.warn(path, wf.tensors());
            var built = DeepFeverGraphBuilder.build(path.getFileName().toString(), wf.tensors());
            return new Loaded(path, wf.format(), built.graph(), built.layout(), built.tapNodes(), count(wf.tensors()), wf);
        } catch (RuntimeException e) {
            wf.close();
            throw e;
        }
    }

    private static Loaded loadOnnx(Path path) throws IOException {
        OnnxModel m = OnnxReader.read(path);
        try {
            NonFiniteWeights.warn(path, m.initializers());
            Graph g = OnnxGraphConverter.convert(m);
            for (String required : new String[] {"features", "embedding", "logits"}) {
                if (!g.outputs().containsKey(required)) {
                    throw new ModelFormatException(path, "ONNX model has no output named '" + required + "' (outputs: " + g.outputs().keySet()
                            + "); export with output_names=[\"features\", \"embedding\", \"logits\"]");
                }
            }
            return new Loaded(path, "onnx (opset " + m.opsetVersion() + ")", g, null, Map.of(), OnnxGraphConverter.parameterCount(m), m);
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static long count(Map<String, Tensor> tensors) {
        long n = 0;
        for (Tensor t : tensors.values()) n += t.size();
        return n;
    }
}
