package org.deepfever.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deepfever.model.FaceExpressionNet;
import org.deepfever.model.ModelLoadException;

/**
 * face-api's FaceExpressionNet (MIT; face-api.js (c) 2018 Vincent Muhler, @vladmandic/face-api 1.7.15
 * (c) Vladimir Mandic) as a {@link FaceModel}: a 112x112 face crop in, 256 pooled features and the
 * probabilities of 7 expressions out (no embedding). The built-in copy ships in the engine's jar
 * ({@code models/face-expression/NOTICE}); a TF.js weights manifest of the same layout can be loaded
 * instead.
 */
public final class ExpressionModel implements FaceModel {
    /** The built-in model's name, as {@link FaceModels#load(String)} takes it. */
    public static final String NAME = "face-expression";

    /**
     * What the network takes, as face-api prepares it: the face box (or whole image) padded with black
     * to a centred square, TF's legacy bilinear resize to 112x112, {@code (pixel - mean RGB) / 255}.
     */
    public static final InputSpec INPUT = new InputSpec(FaceExpressionNet.INPUT_SIZE, InputSpec.ColorOrder.RGB,
            InputSpec.Fit.PAD_TO_SQUARE, 1.0, InputSpec.Resize.TF_LEGACY_BILINEAR,
            new float[] {122.782f, 117.001f, 104.298f}, new float[] {255f, 255f, 255f});

    private final FaceExpressionNet net;
    /** The file it was read from, or the built-in model's name: what a closed model's error names. */
    private final String origin;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ExpressionModel(FaceExpressionNet net, String origin) {
        this.net = net;
        this.origin = origin;
    }

    /**
     * The built-in model.
     *
     * @param options threads, CPU backend (null: the best available) and device
     * @return the model
     * @throws ModelLoadException if the built-in files are missing or damaged
     * @throws IllegalArgumentException if the device or backend named is unknown (not on the class path)
     * @throws IllegalStateException if the device or backend cannot run here (the message names what is missing)
     */
    public static ExpressionModel builtIn(DeepFever.Options options) {
        try {
            FaceExpressionNet net = FaceExpressionNet.load(options.threads(), options.device(), options.backend());
            return new ExpressionModel(net, NAME + " (" + net.source() + ")");
        } catch (IOException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    /**
     * A FaceExpressionNet from a TF.js weights manifest and its shards (face-api's layout and names).
     *
     * @param manifest the {@code *-weights_manifest.json} file
     * @param options  threads, CPU backend (null: the best available) and device
     * @return the model
     * @throws ModelLoadException if a file is missing or malformed, or a tensor is missing or misshapen
     * @throws IllegalArgumentException if the device or backend named is unknown (not on the class path)
     * @throws IllegalStateException if the device or backend cannot run here (the message names what is missing)
     */
    public static ExpressionModel load(Path manifest, DeepFever.Options options) {
        try {
            return new ExpressionModel(FaceExpressionNet.load(manifest, options.threads(), options.device(), options.backend()), manifest.toString());
        } catch (IOException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    @Override public String name() { return NAME; }

    @Override public String note() { return null; }

    @Override public InputSpec input() { return INPUT; }

    @Override
    public OutputSpec output() {
        checkOpen();
        return new OutputSpec(FaceExpressionNet.FEATURES, 0, FaceExpressionNet.LABELS);
    }

    @Override
    public List<FaceResult> extract(List<float[]> faces) {
        checkOpen();
        for (int i = 0; i < faces.size(); i++) {
            if (faces.get(i).length != INPUT.values()) {
                throw new IllegalArgumentException("face " + i + ": expected " + INPUT.values() + " floats (3x112x112), got " + faces.get(i).length);
            }
        }
        if (faces.isEmpty()) return List.of();
        FaceExpressionNet.Output out = net.run(faces);
        List<FaceResult> results = new ArrayList<>(faces.size());
        for (int i = 0; i < faces.size(); i++) {
            results.add(new FaceResult(out.features(i), null, out.logits(i), out.probabilities(i), FaceExpressionNet.LABELS, Map.of()));
        }
        return results;
    }

    @Override public int threads() { return net.threads(); }

    @Override
    public List<String> describe() {
        checkOpen();
        return List.of(
                "model: FaceExpressionNet (face-api 1.7.15, MIT): " + net.source(),
                "input: " + INPUT,
                "outputs: features [N, " + FaceExpressionNet.FEATURES + "], probabilities and logits [N, 7] " + FaceExpressionNet.LABELS,
                String.format("compute: %.3f GFLOP per face", 2.0 * net.macsPerFace() / 1e9));
    }

    private void checkOpen() {
        if (closed.get()) throw new IllegalStateException(origin + ": model is closed");
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) net.close();
    }
}
