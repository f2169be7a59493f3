package org.deepfever.api;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.deepfever.model.ModelLoadException;

/**
 * Loads any {@link FaceModel}: a built-in one by name, or a file (DeepFEVER weights exported from
 * PyTorch, or a FaceExpressionNet TF.js manifest).
 *
 * <ul>
 *   <li>{@value ExpressionModel#NAME} (the default): face-api's trained FaceExpressionNet, shipped in the jar;</li>
 *   <li>{@value #UNTRAINED_DEEPFEVER}: the full-size DeepFEVER network with seeded, untrained weights,
 *       for benchmarks and demos (its results carry a note saying so);</li>
 *   <li>a {@code .pth}/{@code .pt}, {@code .safetensors} or {@code .onnx} file: DeepFEVER ({@link DeepFever#load});</li>
 *   <li>a {@code *.json} TF.js weights manifest: FaceExpressionNet with those weights.</li>
 * </ul>
 */
public final class FaceModels {
    /** Name of the built-in, untrained DeepFEVER. */
    public static final String UNTRAINED_DEEPFEVER = "deepfever-untrained";
    /** The model used when none is named. */
    public static final String DEFAULT = ExpressionModel.NAME;

    private FaceModels() {}

    /** The names {@link #load(String)} accepts besides file paths. */
    public static List<String> builtInNames() {
        return List.of(ExpressionModel.NAME, UNTRAINED_DEEPFEVER);
    }

    /**
     * The default model ({@value #DEFAULT}) with default options.
     *
     * @return the model
     * @throws ModelLoadException if its built-in files are damaged
     */
    public static FaceModel loadDefault() {
        return load(DEFAULT, DeepFever.Options.defaults());
    }

    /**
     * A built-in model by name, or a model file by path, with default options.
     *
     * @param nameOrPath a name from {@link #builtInNames()} or a file path
     * @return the model
     * @throws ModelLoadException if the file is missing or malformed (the message names it)
     */
    public static FaceModel load(String nameOrPath) {
        return load(nameOrPath, DeepFever.Options.defaults());
    }

    /**
     * A built-in model by name, or a model file by path.
     *
     * @param nameOrPath a name from {@link #builtInNames()} or a file path
     * @param options    threads and backend
     * @return the model
     * @throws ModelLoadException if the file is missing or malformed (the message names it), or the
     *         argument is neither a built-in name nor an existing file
     * @throws IllegalArgumentException if the options name an unknown or unavailable backend
     */
    public static FaceModel load(String nameOrPath, DeepFever.Options options) {
        if (nameOrPath.equals(ExpressionModel.NAME)) return ExpressionModel.builtIn(options);
        if (nameOrPath.equals(UNTRAINED_DEEPFEVER)) return DeepFever.untrainedDefault(options);
        Path p = Path.of(nameOrPath);
        if (!Files.exists(p)) {
            throw new ModelLoadException(nameOrPath + ": no such model file, and not a built-in model (built-in: " + builtInNames() + ")");
        }
        return load(p, options);
    }

    /**
     * A model file: a TF.js weights manifest ({@code .json}) is a FaceExpressionNet, anything else is
     * read as DeepFEVER weights.
     *
     * @param path    the file
     * @param options threads and backend
     * @return the model
     * @throws ModelLoadException if the file is missing or malformed (the message names it)
     * @throws IllegalArgumentException if the options name an unknown or unavailable backend
     */
    public static FaceModel load(Path path, DeepFever.Options options) {
        if (path.getFileName() != null && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")) {
            return ExpressionModel.load(path, options);
        }
        return DeepFever.load(path, options);
    }
}
