package org.deepfever.api;

import static org.deepfever.model.ModelTestUtil.MINI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deepfever.io.OpenFiles;
import org.deepfever.model.ModelLoadException;
import org.deepfever.model.ModelTestUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an interrupt does: a load on an interrupted thread stops with a ModelLoadException naming
 * the file, keeps the thread's interrupt flag and leaves nothing of the file open; an inference on
 * an interrupted thread runs to completion with the same result, and the flag is left set.
 */
class InterruptionTest {
    @TempDir Path tmp;

    @Test
    void aLoadOnAnInterruptedThreadStopsCleanly() throws IOException {
        for (String name : List.of("model.pth", "model.safetensors", "model.onnx")) {
            Path p = tmp.resolve(name);
            Files.copy(ModelTestUtil.fixture(MINI, name), p);
            Thread.currentThread().interrupt();
            ModelLoadException e;
            try {
                e = assertThrows(ModelLoadException.class, () -> DeepFever.load(p, DeepFever.Options.defaults().withThreads(1)).close());
                assertTrue(Thread.currentThread().isInterrupted(), name + ": the interrupt flag is kept");
            } finally {
                Thread.interrupted();
            }
            assertEquals(p + ": loading was interrupted", e.getMessage());
            OpenFiles.assertReleased(p);
            DeepFever.load(p, DeepFever.Options.defaults().withThreads(1)).close(); // and the file still loads afterwards
        }
    }

    @Test
    void anInferenceOnAnInterruptedThreadCompletesWithTheSameResult() throws IOException {
        float[] face = ModelTestUtil.row(ModelTestUtil.npy(MINI, "input.npy"), 0);
        try (DeepFever m = DeepFever.load(ModelTestUtil.fixture(MINI, "model.safetensors"), DeepFever.Options.defaults().withThreads(2))) {
            FaceResult expected = m.extract(face);
            Thread.currentThread().interrupt();
            FaceResult r;
            try {
                r = m.extract(face);
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag is left set");
            } finally {
                Thread.interrupted();
            }
            assertArrayEquals(expected.features(), r.features());
            assertArrayEquals(expected.logits(), r.logits());
        }
    }
}
