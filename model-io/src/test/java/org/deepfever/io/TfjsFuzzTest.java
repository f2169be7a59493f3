package org.deepfever.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.deepfever.core.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of the TF.js reader (manifest JSON, groups, shapes, dtypes and
 * quantization, shard sizes): any input loads or fails with a ModelFormatException naming the
 * manifest or one of its shards, within bounded allocation and time (see {@link FuzzSupport}).
 * An input is the manifest's bytes, a 0 byte (which JSON text cannot hold), then the shard bytes:
 * their first half is shard {@code a.bin}, the rest {@code b.bin}; any other shard is missing.
 * Committed inputs: {@code TfjsFuzzTestInputs/tfjs}.
 */
class TfjsFuzzTest {
    /** The manifest's name in errors; nothing is read from disk. */
    static final Path MANIFEST = Path.of("fuzz", "input-weights_manifest.json");

    @BeforeAll
    static void warmUp() throws Exception {
        FuzzSupport.warmUp(FuzzSeeds.tfjs().values(), new TfjsFuzzTest()::tfjs);
    }

    /** Reads one input as described above. */
    static WeightFile read(byte[] input) throws IOException {
        int nul = 0;
        while (nul < input.length && input[nul] != 0) nul++;
        byte[] manifest = Arrays.copyOf(input, nul);
        int mid = nul + 1 + Math.max(0, input.length - nul - 1) / 2;
        byte[] a = Arrays.copyOfRange(input, Math.min(nul + 1, input.length), Math.min(mid, input.length));
        byte[] b = Arrays.copyOfRange(input, Math.min(mid, input.length), input.length);
        return TfjsReader.read(MANIFEST, manifest, path -> switch (path) {
            case "a.bin" -> a;
            case "b.bin" -> b;
            default -> throw new NoSuchFileException(path);
        });
    }

    @FuzzTest(maxDuration = "45s")
    @Timeout(10)
    void tfjs(byte[] input) throws Exception {
        long before = FuzzSupport.allocated();
        try (WeightFile w = read(input)) {
            for (Tensor t : w.tensors().values()) FuzzSupport.touch(t);
        } catch (ModelFormatException e) {
            // shard size errors name the shard (beside the manifest), all others the manifest
            Path file = e.file();
            if (file == null || !(file.equals(MANIFEST) || MANIFEST.getParent().equals(file.getParent()))
                    || e.getMessage() == null || !e.getMessage().startsWith(file + ": ")) {
                throw new AssertionError("error does not name the manifest or a shard: " + e.getMessage(), e);
            }
        } catch (NoSuchFileException e) {
            // a shard this input's source does not have: the source's own error, passed on as documented
        }
        FuzzSupport.checkAllocation(before, input.length);
    }
}
