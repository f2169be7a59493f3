package org.deepfever.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of {@link RestrictedUnpickler} on raw pickle bytes (the data.pkl of a
 * checkpoint): any input yields a value or a ModelFormatException naming the file, never another
 * exception, a StackOverflowError, a class load or an allocation sized by a claimed length.
 * Committed inputs: {@code UnpicklerFuzzTestInputs/unpickler}.
 */
class UnpicklerFuzzTest {
    @BeforeAll
    static void warmUp() throws Exception {
        FuzzSupport.warmUp(FuzzSeeds.all().get("UnpicklerFuzzTestInputs/unpickler").values(), new UnpicklerFuzzTest()::unpickler);
    }

    @FuzzTest(maxDuration = "45s")
    @Timeout(10)
    void unpickler(byte[] input) throws Exception {
        Path p = FuzzSupport.write(input, ".pkl");
        long before = FuzzSupport.allocated();
        try (Arena arena = Arena.ofConfined()) {
            MappedFile f = MappedFile.map(p, arena);
            RestrictedUnpickler.load(f, f.seg);
        } catch (ModelFormatException e) {
            FuzzSupport.assertNamesFile(e, p);
        }
        FuzzSupport.checkAllocation(before, input.length);
    }
}
