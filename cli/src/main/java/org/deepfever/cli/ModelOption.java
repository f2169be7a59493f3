package org.deepfever.cli;

import org.deepfever.api.DeepFever;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceModels;
import picocli.CommandLine.Option;

/** The options shared by commands that load a model. */
final class ModelOption {
    @Option(names = "--model", paramLabel = "FILE|NAME",
            description = "DeepFEVER weights (PyTorch .pth/.pt state dict, .safetensors or .onnx), a FaceExpressionNet "
                    + "TF.js weights manifest (.json), or a built-in model: face-expression (default: face-api's trained "
                    + "expression net) or deepfever-untrained (seeded, untrained DeepFEVER: for benchmarks; its numbers mean nothing).")
    String model = FaceModels.DEFAULT;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    Integer threads;

    @Option(names = "--backend", paramLabel = "NAME", description = "Force a backend: simd or reference (default: best available).")
    String backend;

    @Option(names = "--device", paramLabel = "DEVICE", description = "Where the network runs: cpu (default) or cuda (an NVIDIA GPU "
            + "through CUDA, cuBLAS and cuDNN; see fever info --devices).")
    String device;

    DeepFever.Options options() {
        DeepFever.Options o = DeepFever.Options.defaults();
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            o = o.withThreads(threads);
        }
        if (backend != null) o = o.withBackend(backend);
        if (device != null) o = o.withDevice(device);
        return o;
    }

    FaceModel load() {
        return FaceModels.load(model, options());
    }

    /** The model with {@code threads} threads for each run, whatever {@code --threads} says (it may set how many runs go at once). */
    FaceModel load(int threads) {
        return FaceModels.load(model, options().withThreads(threads));
    }
}
