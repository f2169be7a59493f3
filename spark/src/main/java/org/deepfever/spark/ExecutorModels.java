package org.deepfever.spark;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.deepfever.api.DeepFever;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceModels;
import org.deepfever.api.FaceResult;
import org.deepfever.api.ModelChecksum;
import org.deepfever.model.ModelLoadException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of this JVM: each is loaded once, on the first task that needs it, and then shared by
 * every task thread of the executor until the JVM exits (a model holds its weights and worker
 * threads; loading one per task would repeat seconds of work and memory for every partition).
 *
 * <p>Threads: a model runs on the executor's cores ({@link ExecutorCores}), or the number asked
 * for. So that the executor never keeps more threads busy on the network than Spark granted it
 * cores, at most {@code cores - threads + 1} batches run at once: with threads = cores, one batch
 * at a time on all of them (the other tasks decode and detect meanwhile); with one thread, one
 * batch per core. The engine runs a call that finds the pool busy on its caller's thread alone,
 * which is what the extra permits allow for.
 */
final class ExecutorModels {
    /**
     * A loaded model and what goes with it.
     *
     * @param model    the model
     * @param checksum its {@link ModelChecksum}
     * @param gate     permits for concurrent batches
     */
    record Shared(FaceModel model, String checksum, Semaphore gate) {
        /**
         * Runs one batch when a permit is free.
         *
         * @param faces prepared faces
         * @return their results, in order
         * @throws IllegalStateException if the task is interrupted while waiting (Spark killing it)
         */
        List<FaceResult> extract(List<float[]> faces) {
            try {
                gate.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the model", e);
            }
            try {
                return model.extract(faces);
            } finally {
                gate.release();
            }
        }
    }

    private record Key(String model, int threads, String backend) {}

    private static final Map<Key, Shared> MODELS = new HashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);

    private ExecutorModels() {}

    /**
     * The shared model for these settings, loading it if this JVM has not yet.
     *
     * @param s the extraction's settings
     * @return the model, its checksum and its gate
     * @throws ModelLoadException if the model cannot be found or loaded here (the message names it)
     * @throws IllegalArgumentException if the backend is unknown or unavailable
     */
    static synchronized Shared get(ExtractSettings s) {
        String source = ModelSource.resolve(s.model());
        int cores = ExecutorCores.current();
        int threads = s.threads() != null ? s.threads() : cores;
        Key key = new Key(source, threads, s.backend());
        Shared shared = MODELS.get(key);
        if (shared == null) {
            DeepFever.Options options = DeepFever.Options.defaults().withThreads(threads).withBackend(s.backend());
            FaceModel model = FaceModels.load(source, options);
            String checksum;
            try {
                checksum = ModelChecksum.sha256(source);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
            int permits = Math.max(1, cores - threads + 1);
            shared = new Shared(model, checksum, new Semaphore(permits, true));
            MODELS.put(key, shared);
            LOADS.incrementAndGet();
            // once per executor and model, in the executor's log: which model, and what it runs on
            String graph = model.describe().stream().filter(l -> l.startsWith("graph:")).findFirst().orElse("");
            LOG.info("fever: loaded model {} from {} (sha256 {}) on {} engine threads, {} batch(es) at once, executor cores {}; {}",
                    model.name(), source, checksum, threads, permits, cores, graph);
        }
        return shared;
    }

    /** How many models this JVM has loaded so far (each key once). */
    static int loads() {
        return LOADS.get();
    }
}
