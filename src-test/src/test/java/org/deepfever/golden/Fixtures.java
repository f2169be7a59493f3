package org.deepfever.golden;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the golden sets live: the two small sets committed in src-test/golden (made by
 * src-test/reference/make_goldens.py) and the full-size set that scripts/fixtures.sh makes with
 * the same generator into build/fixtures-full. Tests of the full-size set are skipped, saying so,
 * when it has not been made; a missing committed set is a failure.
 */
final class Fixtures {
    static final List<String> FORMATS = List.of("model.pth", "model.safetensors", "model.onnx");
    static final List<String> BACKENDS = List.of("reference", "simd");

    private Fixtures() {}

    static Path committed() {
        String p = System.getProperty("fever.fixtures");
        Path dir = p != null ? Path.of(p) : Path.of("golden");
        if (!Files.isDirectory(dir)) throw new IllegalStateException("golden sets not found at " + dir.toAbsolutePath() + " (set -Dfever.fixtures)");
        return dir;
    }

    static Path set(String name) {
        if (name.equals("full")) {
            String p = System.getProperty("fever.fixtures.full");
            Path dir = p != null ? Path.of(p) : Path.of("../build/fixtures-full");
            assumeTrue(Files.isRegularFile(dir.resolve("manifest.json")),
                    "full-size golden set missing at " + dir.toAbsolutePath() + ": run scripts/fixtures.sh (scripts/test.sh does)");
            return dir;
        }
        return committed().resolve(name);
    }
}
