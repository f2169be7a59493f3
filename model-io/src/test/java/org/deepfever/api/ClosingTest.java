package org.deepfever.api;

import static org.deepfever.model.ModelTestUtil.MINI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.deepfever.core.Tensor;
import org.deepfever.io.OpenFiles;
import org.deepfever.model.ModelTestUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing a model releases what it holds and leaves it refusing work: when {@code close()} returns,
 * the pool's worker threads ({@code fever-worker-N}, core's ThreadPool) have ended, no descriptor
 * or mapping of the model file is left ({@code /proc/self}), and every call that runs or describes
 * the model throws {@link IllegalStateException} naming the file (the built-in model: its name).
 * For DeepFEVER from each format and for the face-expression net, built in and from a manifest.
 */
class ClosingTest {
    @TempDir Path tmp;

    /** Three threads: the caller and two workers, so there are workers to count. */
    private static final DeepFever.Options THREE_THREADS = DeepFever.Options.defaults().withThreads(3);

    /** The live threads of the engine's pools (every pool names its workers alike). */
    private static Set<Thread> liveWorkers() {
        Set<Thread> workers = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("fever-worker-")) workers.add(t);
        }
        return workers;
    }

    /** A check made while the model is open. */
    private interface WhileOpen {
        void check() throws IOException;
    }

    /**
     * Loads a model, checks that it started its own two workers and runs, makes {@code whileOpen}'s
     * check, closes it, and checks that those workers have ended and the count of live workers is
     * back where it was.
     */
    private static <M extends FaceModel> M loadRunAndClose(Supplier<M> load, WhileOpen whileOpen) throws IOException {
        Set<Thread> before = liveWorkers();
        M model = load.get();
        Set<Thread> own = liveWorkers();
        own.removeAll(before);
        assertEquals(2, own.size(), "a 3-thread model keeps 2 workers of its own: " + own);
        assertEquals(model.output().classes().size(), model.extract(new float[model.input().values()]).logits().length);
        whileOpen.check();
        model.close();
        for (Thread t : own) assertFalse(t.isAlive(), t.getName() + " is still alive after close()");
        assertEquals(before.size(), liveWorkers().size(), "live fever-worker threads after close, against before the load");
        model.close(); // idempotent
        return model;
    }

    /** Each call must throw IllegalStateException whose message names {@code origin} and says the model is closed. */
    private static void assertEveryCallRefused(String origin, Map<String, Executable> calls) {
        calls.forEach((name, call) -> {
            IllegalStateException e = assertThrows(IllegalStateException.class, call, name + " after close()");
            assertTrue(e.getMessage().contains(origin) && e.getMessage().contains("closed"), name + ": " + e.getMessage());
        });
    }

    @Test
    void deepFeverReleasesWorkersAndFileAndRefusesEveryCall() throws IOException {
        for (String name : List.of("model.pth", "model.safetensors", "model.onnx")) {
            Path p = tmp.resolve(name);
            Files.copy(ModelTestUtil.fixture(MINI, name), p);
            DeepFever m = loadRunAndClose(() -> DeepFever.load(p, THREE_THREADS),
                    () -> assertTrue(!OpenFiles.supported() || OpenFiles.mappings(p) > 0, name + " should be mapped while the model is open"));
            OpenFiles.assertReleased(p);
            Tensor batch = Tensor.zeros(1, 3, DeepFever.SIZE, DeepFever.SIZE);
            Map<String, Executable> calls = new LinkedHashMap<>();
            calls.put("extract(float[])", () -> m.extract(new float[3 * DeepFever.SIZE * DeepFever.SIZE]));
            calls.put("extract(List)", () -> m.extract(List.of(new float[3 * DeepFever.SIZE * DeepFever.SIZE])));
            calls.put("extract(Tensor)", () -> m.extract(batch));
            calls.put("run", () -> m.run(batch));
            calls.put("taps", () -> m.taps(batch));
            calls.put("info", m::info);
            calls.put("kernelChoices", () -> m.kernelChoices(1));
            calls.put("graph", m::graph);
            calls.put("output", m::output);
            calls.put("describe", m::describe);
            assertEveryCallRefused(p.toString(), calls);
            assertEquals("deepfever", m.name());
            assertEquals(DeepFever.INPUT, m.input());
        }
    }

    @Test
    void builtInFaceExpressionModelReleasesWorkersAndRefusesEveryCall() throws IOException {
        ExpressionModel m = loadRunAndClose(() -> ExpressionModel.builtIn(THREE_THREADS), () -> { });
        assertEveryCallRefused(ExpressionModel.NAME, refusable(m));
        assertEquals(ExpressionModel.NAME, m.name());
    }

    @Test
    void faceExpressionModelFromAManifestReleasesWorkersAndFilesAndRefusesEveryCall() throws IOException {
        Path manifest = copyResource("face_expression_model-weights_manifest.json");
        Path weights = copyResource("face_expression_model.bin");
        ExpressionModel m = loadRunAndClose(() -> ExpressionModel.load(manifest, THREE_THREADS), () -> { });
        OpenFiles.assertReleased(manifest);
        OpenFiles.assertReleased(weights);
        assertEveryCallRefused(manifest.toString(), refusable(m));
    }

    private static Map<String, Executable> refusable(FaceModel m) {
        Map<String, Executable> calls = new LinkedHashMap<>();
        calls.put("extract(float[])", () -> m.extract(new float[ExpressionModel.INPUT.values()]));
        calls.put("extract(List)", () -> m.extract(List.of(new float[ExpressionModel.INPUT.values()])));
        calls.put("output", m::output);
        calls.put("describe", m::describe);
        return calls;
    }

    /** One of the built-in model's files, as a user would have it on disk. */
    private Path copyResource(String name) throws IOException {
        Path out = tmp.resolve(name);
        try (InputStream in = ExpressionModel.class.getResourceAsStream("/org/deepfever/model/face-expression/" + name)) {
            assertNotNull(in, name + " missing from the class path");
            Files.write(out, in.readAllBytes());
        }
        return out;
    }
}
