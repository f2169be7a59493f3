package org.deepfever.golden;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the golden sets live: the two small sets shipped in ../shared/fixtures and the full-size set
 * that scripts/fixtures.sh makes with real PyTorch into build/fixtures-full.
 */
final class Fixtures {
    static final List<String> FORMATS = List.of("model.pth", "model.safetensors", "model.onnx");
    static final List<String> BACKENDS = List.of("reference", "simd");

    private Fixtures() {}

    static Path shared() {
        String p = System.getProperty("fever.fixtures");
        Path dir = p != null ? Path.of(p) : Path.of("../../shared/fixtures");
        if (!Files.isDirectory(dir)) throw new IllegalStateException("golden fixtures not found at " + dir.toAbsolutePath() + " (set -Dfever.fixtures)");
        return dir;
    }

    static Path set(String name) {
        if (name.equals("full")) {
            String p = System.getProperty("fever.fixtures.full");
            Path dir = p != null ? Path.of(p) : Path.of(System.getProperty("maven.multiModuleProjectDirectory", ".."), "build/fixtures-full");
            if (!Files.isRegularFile(dir.resolve("manifest.json"))) {
                throw new IllegalStateException("full-size fixtures missing at " + dir.toAbsolutePath()
                        + ": run scripts/fixtures.sh (the README's test command does)");
            }
            return dir;
        }
        return shared().resolve(name);
    }
}
