package org.deepfever.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.spark.SparkException;
import org.deepfever.model.ModelLoadException;
import org.junit.jupiter.api.Test;

/** The one line a failed command prints. */
class JobErrorsTest {
    @Test
    void aJobFailureShowsTheExecutorsModelError() {
        SparkException job = new SparkException("Job aborted due to stage failure: Task 0 in stage 1.0 failed 4 times\n\tat remote.Stack(trace)",
                new ModelLoadException("m.pth: no such model file on host-7 (executor 3)"));
        assertEquals("m.pth: no such model file on host-7 (executor 3)", JobErrors.describe(new RuntimeException("wrapped", job)));
    }

    @Test
    void otherwiseTheFirstLineOfTheOuterMessage() {
        assertEquals("Job aborted: disk full", JobErrors.describe(new SparkException("Job aborted: disk full\n\tat x.y(z)", new IllegalStateException("inner"))));
        assertEquals("java.lang.IllegalStateException", JobErrors.describe(new IllegalStateException()));
    }
}
