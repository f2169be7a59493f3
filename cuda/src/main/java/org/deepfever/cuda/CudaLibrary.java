package org.deepfever.cuda;

import java.util.List;

/**
 * The three NVIDIA libraries the cuda device binds, each with the file names tried in order (newest
 * major version first) and, per file, the companion libraries loaded before it from the same folder.
 * Companions matter when the folder is not on the loader's path (a Python environment's
 * nvidia/cudnn/lib): libcudnn.so.9 opens its sub-libraries by name, which then resolves to the copies
 * already loaded, and libcublas needs libcublasLt.
 */
enum CudaLibrary {
    CUDART("CUDA runtime", List.of("libcudart.so.13", "libcudart.so.12")),
    CUBLAS("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12")),
    CUDNN("cuDNN", List.of("libcudnn.so.9", "libcudnn.so.8"));

    final String title;
    final List<String> files;

    CudaLibrary(String title, List<String> files) {
        this.title = title;
        this.files = files;
    }

    /** Libraries to load before {@code file} when they sit beside it, in dependency order. */
    List<String> companions(String file) {
        return switch (file) {
            case "libcublas.so.13" -> List.of("libcublasLt.so.13");
            case "libcublas.so.12" -> List.of("libcublasLt.so.12");
            case "libcudnn.so.9" -> List.of("libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
                    "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9");
            case "libcudnn.so.8" -> List.of("libcudnn_ops_infer.so.8", "libcudnn_cnn_infer.so.8");
            default -> List.of();
        };
    }

    /** "libcudart.so.13 or libcudart.so.12". */
    String fileChoices() { return String.join(" or ", files); }
}
