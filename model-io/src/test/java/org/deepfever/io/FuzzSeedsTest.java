package org.deepfever.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.deepfever.api.DeepFever;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed fuzz inputs (seeds and regression inputs) are exactly what {@link FuzzSeeds} makes,
 * and each seed is a valid input of its format (a seed that fails to load would start the fuzzer
 * outside the format). Run with
 * {@code -Dfever.fuzz.writeSeeds=true} to rewrite them after changing FuzzSeeds.
 */
class FuzzSeedsTest {
    /** Where the seeds are committed, relative to the module (surefire's working directory). */
    private static final Path SOURCE = Path.of("src/test/resources/org/deepfever/io");

    @TempDir Path tmp;

    @Test
    void committedSeedsAreTheGeneratedOnes() throws IOException {
        boolean write = Boolean.getBoolean("fever.fuzz.writeSeeds");
        for (Map.Entry<String, Map<String, byte[]>> target : FuzzSeeds.all().entrySet()) {
            Path dir = SOURCE.resolve(target.getKey());
            if (write) {
                Files.createDirectories(dir);
                for (Map.Entry<String, byte[]> s : target.getValue().entrySet()) Files.write(dir.resolve(s.getKey()), s.getValue());
            }
            TreeSet<String> committed = new TreeSet<>();
            try (Stream<Path> files = Files.list(dir)) {
                files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("seed-") || n.startsWith("regression-")).forEach(committed::add);
            }
            assertEquals(new TreeSet<>(target.getValue().keySet()), committed,
                    dir + ": committed seeds differ from FuzzSeeds (rerun with -Dfever.fuzz.writeSeeds=true)");
            for (Map.Entry<String, byte[]> s : target.getValue().entrySet()) {
                assertArrayEquals(s.getValue(), Files.readAllBytes(dir.resolve(s.getKey())),
                        dir.resolve(s.getKey()) + " differs from what FuzzSeeds makes (rerun with -Dfever.fuzz.writeSeeds=true)");
            }
        }
    }

    @Test
    void npySeedsLoad() throws IOException {
        for (Map.Entry<String, byte[]> s : FuzzSeeds.npy().entrySet()) {
            try (WeightFile w = Npy.open(file(s))) {
                assertEquals(1, w.tensors().size(), s.getKey());
            }
        }
    }

    @Test
    void safetensorsSeedsLoad() throws IOException {
        for (Map.Entry<String, byte[]> s : FuzzSeeds.safetensors().entrySet()) {
            try (WeightFile w = SafetensorsReader.read(file(s))) {
                assertFalse(w.tensors().isEmpty(), s.getKey());
            }
        }
    }

    @Test
    void pthSeedsLoadAndTheirPicklesUnpickle() throws IOException {
        for (Map.Entry<String, byte[]> s : FuzzSeeds.pth().entrySet()) {
            try (WeightFile w = PthReader.read(file(s))) {
                assertFalse(w.tensors().isEmpty(), s.getKey());
            }
            Path pkl = tmp.resolve(s.getKey() + ".pkl");
            Files.write(pkl, FuzzSeeds.dataPkl(s.getValue()));
            try (Arena arena = Arena.ofConfined()) {
                MappedFile f = MappedFile.map(pkl, arena);
                assertTrue(RestrictedUnpickler.load(f, f.seg) instanceof Map<?, ?>, s.getKey());
            }
        }
    }

    @Test
    void tfjsSeedsLoadEveryTensor() throws IOException {
        Map<String, Integer> expected = Map.of("seed-two-shards.bin", 2, "seed-model-json.bin", 4);
        assertEquals(expected.keySet(), FuzzSeeds.tfjs().keySet());
        for (Map.Entry<String, byte[]> s : FuzzSeeds.tfjs().entrySet()) {
            try (WeightFile w = TfjsFuzzTest.read(s.getValue())) {
                assertEquals(expected.get(s.getKey()), w.tensors().size(), s.getKey());
            }
        }
    }

    @Test
    void onnxSeedLoadsAsADeepFeverModel() throws IOException {
        Path p = tmp.resolve("seed.onnx");
        Files.write(p, FuzzSeeds.onnx());
        try (DeepFever m = DeepFever.load(p, DeepFever.Options.defaults().withThreads(1).withBackend("reference"))) {
            assertEquals(5, m.classes().size());
        }
    }

    private Path file(Map.Entry<String, byte[]> seed) throws IOException {
        Path p = tmp.resolve(seed.getKey());
        Files.write(p, seed.getValue());
        return p;
    }
}
