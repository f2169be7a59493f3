package org.deepfever.spark;

import java.io.Serializable;
import org.deepfever.faces.FaceAnalyzer;

/**
 * What a {@link SparkFaces} extraction needs on the executors (sent with each task, so small and
 * serializable).
 *
 * @param model         a built-in model name, or a model file path every executor can read (or the
 *                      name of a file shipped with {@code --files})
 * @param batch         faces per network run
 * @param detect        when to run the face detector
 * @param threads       engine threads of the model in each executor JVM; null: the executor's cores
 * @param backend       a backend name, or null for the best available
 * @param pathColumn    the input column holding the image path (string)
 * @param contentColumn the input column holding the image bytes (binary)
 * @param lengthColumn  the input column holding the file length (long), used only to explain a null
 *                      content; null when the input has none
 */
record ExtractSettings(String model, int batch, FaceAnalyzer.Detect detect, Integer threads, String backend,
                       String pathColumn, String contentColumn, String lengthColumn) implements Serializable {
    /**
     * Checks the numbers.
     *
     * @throws IllegalArgumentException if batch or threads is below 1, or a required name is missing
     */
    ExtractSettings {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("model: a built-in name or a file path is needed");
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (threads != null && threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (detect == null || pathColumn == null || contentColumn == null) throw new IllegalArgumentException("detect mode and column names are needed");
    }
}
