package org.deepfever.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.deepfever.api.DeepFever;
import org.deepfever.core.Tensor;
import org.deepfever.io.Npy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole-network results on the GPU against real PyTorch (the golden sets found through the
 * {@code fever.fixtures} property, and the full-size set through {@code fever.fixtures.full} when it
 * was made): every set and format, the whole batch and batch 1. Tolerance: max |cuda - PyTorch| <=
 * 1e-3 on features, embedding and logits. Needs a GPU; skipped otherwise.
 */
class CudaGoldenGpuTest {
    static final double TOLERANCE = 1e-3;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String set : List.of("deepfever-mini", "deepfever-mini-fullbackbone", "full")) {
            for (String format : List.of("model.pth", "model.safetensors", "model.onnx")) out.add(Arguments.of(set, format));
        }
        return out.stream();
    }

    static Path set(String name) {
        String p = name.equals("full") ? System.getProperty("fever.fixtures.full") : System.getProperty("fever.fixtures");
        Path dir = p == null ? null : name.equals("full") ? Path.of(p) : Path.of(p).resolve(name);
        assumeTrue(dir != null && Files.isRegularFile(dir.resolve("input.npy")), "golden set " + name + " not found (" + dir + ")");
        return dir;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void outputsMatchPyTorch(String set, String format) throws Exception {
        Gpu.libraries();
        Path dir = set(set);
        assumeTrue(Files.isRegularFile(dir.resolve(format)), set + " has no " + format);
        Tensor input = Npy.read(dir.resolve("input.npy"));
        try (DeepFever model = DeepFever.load(dir.resolve(format), DeepFever.Options.defaults().withDevice("cuda"))) {
            Map<String, Tensor> all = model.run(input);
            Map<String, Tensor> first = model.run(input.slice(0, 0, 1).copy());
            for (String name : List.of("features", "embedding", "logits")) {
                Tensor expected = Npy.read(dir.resolve(name + ".npy"));
                double d = Gpu.maxAbsDiff(expected, all.get(name));
                assertTrue(d <= TOLERANCE, set + "/" + format + " " + name + " (batch " + input.dim(0) + "): max |cuda - PyTorch| = " + d);
                double d1 = Gpu.maxAbsDiff(expected.slice(0, 0, 1).copy(), first.get(name));
                assertTrue(d1 <= TOLERANCE, set + "/" + format + " " + name + " (batch 1): max |cuda - PyTorch| = " + d1);
                System.out.printf("[fever-cuda] %s/%s %s: max |cuda - PyTorch| = %.2e (batch %d), %.2e (batch 1)%n", set, format, name, d, input.dim(0), d1);
            }
            assertTrue(model.info().backendNodeCounts().containsKey("cuda"), "nodes run on cuda: " + model.info().backendNodeCounts());
        }
    }
}
