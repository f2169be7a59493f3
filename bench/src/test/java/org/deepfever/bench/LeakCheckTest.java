package org.deepfever.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deepfever.api.DeepFever;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceModels;
import org.junit.jupiter.api.Test;

/**
 * {@link LeakCheck} at CI size: 500 inferences of warm-up, then 2,000 of batch 1 on 2 threads,
 * sampled after a full GC every 500. Between the 500 and the 2,000 mark (1,500 inferences) neither
 * the heap in use nor the native memory outside the collector's and the JIT's categories may grow by
 * {@value #BOUND_KB} KB or more: a leak of 1 KB per inference would grow one of them by 1.5 MB, and
 * one of 200 bytes by 290 KB. Measured here (AMD EPYC, JDK 25): +0 to +2 KB for both. The heap
 * after a full collection is exact; the native figure moves by a few KB between samples (NMT's own
 * bookkeeping). This module's tests run with {@code -XX:NativeMemoryTracking=summary} (bench/pom.xml).
 */
class LeakCheckTest {
    static final long BOUND_KB = 256;

    private static void assertNoGrowth(String name) {
        List<LeakCheck.Sample> samples;
        try (FaceModel model = FaceModels.load(name, DeepFever.Options.defaults().withThreads(2))) {
            samples = LeakCheck.run(model, 500, 2000, 4);
        }
        String table = name + "\n" + String.join("\n", LeakCheck.table(samples));
        System.out.println(table);
        assertEquals(5, samples.size(), table);
        LeakCheck.Sample from = samples.get(1), to = samples.getLast();
        assertEquals(2000, to.inferences(), table);
        assertTrue(to.liveHeapKb() - from.liveHeapKb() < BOUND_KB, "live heap grew by " + (to.liveHeapKb() - from.liveHeapKb()) + " KB:\n" + table);
        assertTrue(to.steadyKb() - from.steadyKb() < BOUND_KB, "native memory grew by " + (to.steadyKb() - from.steadyKb()) + " KB:\n" + table);
        for (LeakCheck.Sample s : samples) assertEquals(from.threads(), s.threads(), "live threads:\n" + table);
    }

    @Test
    void faceExpressionInferencesLeaveHeapAndNativeMemoryFlat() {
        assertNoGrowth("face-expression");
    }

    @Test
    void deepFeverInferencesLeaveHeapAndNativeMemoryFlat() {
        Path mini = Path.of(System.getProperty("fever.fixtures", "../src-test/golden"), "deepfever-mini", "model.pth");
        assertTrue(Files.isRegularFile(mini), "golden model missing: " + mini.toAbsolutePath() + " (system property fever.fixtures)");
        assertNoGrowth(mini.toString());
    }
}
