package org.deepfever.golden;

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
 * Whole-network results against real PyTorch (the committed sets and the full-size one): every set,
 * every format, both CPU backends, the whole batch and batch 1. Tolerance: max |engine - PyTorch|
 * <= 1e-4 on features, embedding and logits (the bar; ONNX Runtime reaches 3.8e-6).
 */
class GoldenTest {
    static final double OUTPUT_TOLERANCE = 1e-4;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String set : List.of("deepfever-mini", "deepfever-mini-fullbackbone", "full")) {
            for (String format : Fixtures.FORMATS) {
                for (String backend : Fixtures.BACKENDS) out.add(Arguments.of(set, format, backend));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void outputsMatchPyTorch(String set, String format, String backend) throws Exception {
        Path dir = Fixtures.set(set);
        Tensor input = Npy.read(dir.resolve("input.npy"));
        try (DeepFever model = DeepFever.load(dir.resolve(format), DeepFever.Options.defaults().withBackend(backend))) {
            Map<String, Tensor> all = model.run(input);
            Map<String, Tensor> first = model.run(input.slice(0, 0, 1).copy());
            for (String name : List.of("features", "embedding", "logits")) {
                Tensor expected = Npy.read(dir.resolve(name + ".npy"));
                Compare.assertClose(set + "/" + format + "/" + backend + " " + name + " (batch " + input.dim(0) + ")",
                        expected, all.get(name), OUTPUT_TOLERANCE);
                Compare.assertClose(set + "/" + format + "/" + backend + " " + name + " (batch 1)",
                        expected.slice(0, 0, 1).copy(), first.get(name), OUTPUT_TOLERANCE);
            }
        }
    }
}
