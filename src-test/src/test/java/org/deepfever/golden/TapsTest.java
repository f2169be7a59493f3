package org.deepfever.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * Intermediate activations of face 0 against PyTorch's taps, for state-dict formats. Activations
 * grow through the residual stacks, so the tolerance is relative to the tap's largest magnitude:
 * max |engine - PyTorch| <= 1e-5 * max(1, max |PyTorch|).
 */
class TapsTest {
    static final double RELATIVE_TOLERANCE = 1e-5;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String set : List.of("deepfever-mini", "deepfever-mini-fullbackbone", "full")) {
            for (String format : List.of("model.pth", "model.safetensors")) {
                for (String backend : Fixtures.BACKENDS) out.add(Arguments.of(set, format, backend));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void tapsMatchPyTorch(String set, String format, String backend) throws Exception {
        Path dir = Fixtures.set(set);
        Tensor face0 = Npy.read(dir.resolve("input.npy")).slice(0, 0, 1).copy();
        try (DeepFever model = DeepFever.load(dir.resolve(format), DeepFever.Options.defaults().withBackend(backend))) {
            Map<String, Tensor> taps = model.taps(face0);
            List<Path> files;
            try (Stream<Path> s = Files.list(dir.resolve("taps"))) {
                files = s.sorted().toList();
            }
            assertTrue(files.size() >= 8, "expected at least 8 taps in " + dir);
            for (Path f : files) {
                String name = f.getFileName().toString().replace(".npy", "");
                Tensor expected = Npy.read(f);
                Tensor actual = taps.get(name);
                assertTrue(actual != null, "engine produced no tap '" + name + "'; it has " + taps.keySet());
                double tol = RELATIVE_TOLERANCE * Math.max(1, Compare.maxAbs(expected));
                Compare.assertClose(set + "/" + format + "/" + backend + " tap " + name, expected, actual, tol);
            }
            assertEquals(files.size(), taps.size(), "tap count");
        }
    }
}
