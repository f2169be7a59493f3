package org.deepfever.cli;

import java.nio.file.Path;
import org.deepfever.api.DeepFever;
import picocli.CommandLine.Option;

/** The options shared by commands that load a model. */
final class ModelOption {
    static final String UNTRAINED_NOTE = "untrained seeded default weights: not a real expression model; pass --model FILE";

    @Option(names = "--model", paramLabel = "FILE",
            description = "Model file: PyTorch .pth/.pt (torch.save state dict), .safetensors or .onnx. "
                    + "Default: built-in UNTRAINED seeded weights (the network runs, the numbers mean nothing).")
    Path model;

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

    boolean isDefault() { return model == null; }

    DeepFever load() {
        return model == null ? DeepFever.untrainedDefault(options()) : DeepFever.load(model, options());
    }
}
