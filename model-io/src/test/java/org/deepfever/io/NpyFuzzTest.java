package org.deepfever.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of the .npy reader: any input loads or fails with a ModelFormatException
 * naming the file, within bounded allocation and time (see {@link FuzzSupport}). A plain test run
 * replays the committed inputs in {@code NpyFuzzTestInputs/npy}; {@code scripts/fuzz.sh} fuzzes.
 */
class NpyFuzzTest {
    @BeforeAll
    static void warmUp() throws Exception {
        FuzzSupport.warmUp(FuzzSeeds.npy().values(), new NpyFuzzTest()::npy);
    }

    @FuzzTest(maxDuration = "45s")
    @Timeout(10)
    void npy(byte[] input) throws Exception {
        FuzzSupport.weightFile(input, ".npy", Npy::open);
    }
}
