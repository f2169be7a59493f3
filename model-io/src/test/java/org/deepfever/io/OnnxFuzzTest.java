package org.deepfever.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import org.deepfever.api.DeepFever;
import org.deepfever.model.ModelLoadException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of ONNX loading the way users load a model: {@link DeepFever#load} runs
 * the wire pass that locates initializer data, protobuf parsing, opset and initializer checks and
 * the graph conversion, then compiles the graph. Any input loads (and its initializers read in
 * full) or fails with a {@link ModelLoadException} naming the file, within bounded allocation and
 * time (see {@link FuzzSupport}). Committed inputs: {@code OnnxFuzzTestInputs/onnx}.
 */
class OnnxFuzzTest {
    private static final DeepFever.Options ONE_THREAD = DeepFever.Options.defaults().withThreads(1).withBackend("reference");

    /** One-time work (protobuf's and the backend's set-up, class loading) before any input is measured. */
    @BeforeAll
    static void warmUp() {
        FuzzSupport.warmUp(java.util.List.of(FuzzSeeds.onnx()), new OnnxFuzzTest()::onnx);
    }

    @FuzzTest(maxDuration = "45s")
    @Timeout(10)
    void onnx(byte[] input) throws Exception {
        Path p = FuzzSupport.write(input, ".onnx");
        long before = FuzzSupport.allocated();
        try (DeepFever m = DeepFever.load(p, ONE_THREAD)) {
            m.info();
        } catch (ModelLoadException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith(p + ": ")) {
                throw new AssertionError("error does not name the file " + p + ": " + e.getMessage(), e);
            }
        }
        FuzzSupport.checkAllocation(before, input.length);
    }

}
