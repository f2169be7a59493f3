package org.deepfever.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of the safetensors reader (header length, JSON header, offsets, dtypes):
 * any input loads or fails with a ModelFormatException naming the file, within bounded allocation
 * and time (see {@link FuzzSupport}). Committed inputs: {@code SafetensorsFuzzTestInputs/safetensors}.
 */
class SafetensorsFuzzTest {
    @BeforeAll
    static void warmUp() throws Exception {
        FuzzSupport.warmUp(FuzzSeeds.safetensors().values(), new SafetensorsFuzzTest()::safetensors);
    }

    @FuzzTest(maxDuration = "45s")
    @Timeout(10)
    void safetensors(byte[] input) throws Exception {
        FuzzSupport.weightFile(input, ".safetensors", SafetensorsReader::read);
    }
}
