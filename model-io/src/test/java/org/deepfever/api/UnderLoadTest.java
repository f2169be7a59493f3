package org.deepfever.api;

import static org.deepfever.model.ModelTestUtil.MINI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.deepfever.model.ModelTestUtil;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One loaded model shared by {@value #THREADS} threads gives, for every call, the float bits the
 * same call gives on one thread: per CPU backend (simd, reference) and model kind (the built-in
 * face-expression net, the golden deepfever-mini checkpoint).
 *
 * <p>Each model runs on a pool of 2 threads, so at any moment one caller has the pool and the
 * others run their loops serially on themselves (ThreadPool's rule): both ways must agree to the
 * bit. Calls use batches of 1 to 4 faces in {@value #COMPOSITIONS} fixed compositions; results
 * are not batch-invariant (kernels and their blocking are chosen per batch), so each call is
 * compared with the single-thread result of the same composition, computed first on the test
 * thread. Features, embedding, logits and probabilities are compared with
 * {@link Float#floatToRawIntBits}; no tolerance.
 *
 * <p>Calls (of 1 to 4 faces, 2 on average) in total, 8 threads each: simd 8 x 150 = 1200 on
 * face-expression and 8 x 300 = 2400 on deepfever-mini; on the scalar reference backend, far slower
 * (face-expression about 60 ms a face), 8 x 4 = 32 and 8 x 12 = 96: 3,728 calls. 20 to 40 s in all
 * on a 2-core AMD EPYC VM, depending on its other load. The timeout only catches a hang (a lost
 * wake-up in the pool); it times nothing.
 */
class UnderLoadTest {
    static final int THREADS = 8;
    static final int COMPOSITIONS = 9;
    /** Per composition, the faces of the batch (indices into the distinct faces): sizes 1 to 4, repeats included. */
    private static final int[][] BATCHES = {{0}, {1}, {2, 3}, {4}, {0, 1, 2}, {3, 3}, {5, 0, 4, 1}, {2}, {1, 5}};

    @ParameterizedTest(name = "{0} on {1}: 8 threads x {2} calls")
    @CsvSource({
            "face-expression, simd,      150",
            "deepfever-mini,  simd,      300",
            "face-expression, reference, 4",
            "deepfever-mini,  reference, 12",
    })
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void threadsSharingOneModelGiveTheSingleThreadBits(String kind, String backend, int callsPerThread) throws Exception {
        assertEquals(COMPOSITIONS, BATCHES.length);
        DeepFever.Options options = DeepFever.Options.defaults().withThreads(2).withBackend(backend);
        try (FaceModel model = kind.equals("deepfever-mini")
                ? DeepFever.load(ModelTestUtil.fixture(MINI, "model.pth"), options)
                : ExpressionModel.builtIn(options)) {
            assertEquals(2, model.threads());
            List<float[]> faces = faces(model, kind);
            List<List<float[]>> batches = new ArrayList<>();
            for (int[] b : BATCHES) {
                List<float[]> batch = new ArrayList<>();
                for (int i : b) batch.add(faces.get(i));
                batches.add(batch);
            }
            List<List<FaceResult>> single = new ArrayList<>();
            for (List<float[]> b : batches) single.add(model.extract(b));

            CyclicBarrier start = new CyclicBarrier(THREADS);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    final int thread = t;
                    done.add(pool.submit(() -> {
                        start.await(60, TimeUnit.SECONDS);
                        for (int k = 0; k < callsPerThread; k++) {
                            int c = (thread * 5 + k) % COMPOSITIONS; // threads start on different compositions
                            List<FaceResult> got = model.extract(batches.get(c));
                            assertSameBits(kind + " " + backend + ", thread " + thread + " call " + k + " (batch composition " + c + ")",
                                    single.get(c), got);
                        }
                        return callsPerThread;
                    }));
                }
                int calls = 0;
                for (Future<Integer> f : done) {
                    try {
                        calls += f.get();
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof AssertionError a) throw a;
                        throw e;
                    }
                }
                assertEquals(THREADS * callsPerThread, calls);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** The distinct faces the compositions draw on: the golden inputs for DeepFEVER, seeded noise for face-expression. */
    private static List<float[]> faces(FaceModel model, String kind) throws IOException {
        List<float[]> faces = new ArrayList<>();
        if (kind.equals("deepfever-mini")) faces.addAll(ModelTestUtil.faces(ModelTestUtil.npy(MINI, "input.npy")));
        Random random = new Random(20);
        while (faces.size() < 6) {
            float[] f = new float[model.input().values()];
            for (int i = 0; i < f.length; i++) f[i] = random.nextFloat() - 0.5f; // the normalised range of both models' inputs
            faces.add(f);
        }
        return faces;
    }

    private static void assertSameBits(String what, List<FaceResult> expected, List<FaceResult> actual) {
        assertEquals(expected.size(), actual.size(), what + ": results");
        for (int i = 0; i < expected.size(); i++) {
            FaceResult e = expected.get(i), a = actual.get(i);
            String face = what + ", face " + i;
            ModelTestUtil.assertBitExact(face + " features", e.features(), a.features());
            if (e.embedding() == null) assertNull(a.embedding(), face + " embedding");
            else ModelTestUtil.assertBitExact(face + " embedding", e.embedding(), a.embedding());
            ModelTestUtil.assertBitExact(face + " logits", e.logits(), a.logits());
            ModelTestUtil.assertBitExact(face + " probabilities", e.probabilities(), a.probabilities());
            assertEquals(e.label(), a.label(), face + " label");
        }
    }
}
