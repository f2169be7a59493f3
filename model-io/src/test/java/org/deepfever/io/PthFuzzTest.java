package org.deepfever.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of the torch.save reader as a whole: zip directory (stored and deflated
 * entries, zip64 fields), the restricted unpickler and the tensor views it rebuilds. Any input loads
 * or fails with a ModelFormatException naming the file, within bounded allocation and time (see
 * {@link FuzzSupport}). Committed inputs: {@code PthFuzzTestInputs/pth}; {@link UnpicklerFuzzTest}
 * fuzzes the pickle alone, which mutations of a whole archive rarely reach intact.
 */
class PthFuzzTest {
    @BeforeAll
    static void warmUp() throws Exception {
        FuzzSupport.warmUp(FuzzSeeds.pth().values(), new PthFuzzTest()::pth);
    }

    @FuzzTest(maxDuration = "45s")
    @Timeout(10)
    void pth(byte[] input) throws Exception {
        FuzzSupport.weightFile(input, ".pth", PthReader::read);
    }
}
