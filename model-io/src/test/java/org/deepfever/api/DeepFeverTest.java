package org.deepfever.api;

import static org.deepfever.model.ModelTestUtil.MINI;
import static org.deepfever.model.ModelTestUtil.assertClose;
import static org.deepfever.model.ModelTestUtil.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.deepfever.core.Tensor;
import org.deepfever.model.ModelTestUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The DeepFever API on the deepfever-mini fixture (model.pth), against PyTorch's outputs. Threads
 * sharing a model: {@link UnderLoadTest}; closing: {@link ClosingTest}.
 */
class DeepFeverTest {
    private static DeepFever model;
    private static List<float[]> faces;
    private static Tensor features, embedding, logits;

    @BeforeAll
    static void load() throws IOException {
        model = DeepFever.load(ModelTestUtil.fixture(MINI, "model.pth"));
        faces = ModelTestUtil.faces(ModelTestUtil.npy(MINI, "input.npy"));
        features = ModelTestUtil.npy(MINI, "features.npy");
        embedding = ModelTestUtil.npy(MINI, "embedding.npy");
        logits = ModelTestUtil.npy(MINI, "logits.npy");
        assertEquals(4, faces.size());
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    private static long manifestParameters() throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(ModelTestUtil.fixture(MINI, "manifest.json").toFile());
        assertTrue(manifest.path("parameters").isIntegralNumber(), "manifest.json has no parameters");
        return manifest.get("parameters").longValue();
    }

    @Test
    void batchExtractMatchesPyTorch() {
        List<FaceResult> results = model.extract(faces);
        assertEquals(faces.size(), results.size());
        for (int i = 0; i < faces.size(); i++) {
            FaceResult r = results.get(i);
            assertClose("features " + i, ModelTestUtil.row(features, i), r.features(), 1e-4);
            assertClose("embedding " + i, ModelTestUtil.row(embedding, i), r.embedding(), 1e-4);
            assertClose("logits " + i, ModelTestUtil.row(logits, i), r.logits(), 1e-4);
            assertEquals(16, r.features().length);
            assertEquals(32, r.embedding().length);
            assertEquals(8, r.logits().length);
            assertTrue(r.extraHeads().isEmpty());
        }
    }

    @Test
    void probabilitiesAndLabel() {
        List<FaceResult> results = model.extract(faces);
        assertEquals(DeepFever.AFFECTNET_CLASSES, model.classes());
        for (int i = 0; i < results.size(); i++) {
            FaceResult r = results.get(i);
            double sum = 0;
            for (float p : r.probabilities()) {
                assertTrue(p >= 0 && p <= 1, "probability " + p);
                sum += p;
            }
            assertEquals(1.0, sum, 1e-5, "face " + i + " probabilities sum");
            float[] ref = ModelTestUtil.row(logits, i);
            int best = 0;
            for (int j = 1; j < ref.length; j++) if (ref[j] > ref[best]) best = j;
            assertEquals(DeepFever.AFFECTNET_CLASSES.get(best), r.label(), "face " + i + " label");
            assertEquals(DeepFever.AFFECTNET_CLASSES, List.copyOf(r.scores().keySet()));
            assertEquals(r.probabilities()[best], r.scores().get(r.label()));
            // softmax of the logits, computed here
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (float l : r.logits()) max = Math.max(max, l);
            for (float l : r.logits()) z += Math.exp(l - max);
            for (int j = 0; j < 8; j++) assertEquals(Math.exp(r.logits()[j] - max) / z, r.probabilities()[j], 1e-6);
        }
    }

    @Test
    void singleFaceEqualsBatchRow() {
        List<FaceResult> batch = model.extract(faces);
        FaceResult one = model.extract(faces.get(3));
        assertClose("features", batch.get(3).features(), one.features(), 1e-5);
        assertClose("logits", batch.get(3).logits(), one.logits(), 1e-5);
    }

    @Test
    void info() throws IOException {
        ModelInfo info = model.info();
        assertEquals("pth", info.format());
        assertEquals(manifestParameters(), info.parameters());
        assertEquals(158860L, info.parameters());
        assertTrue(info.gflopPerFace() > 0, "gflop " + info.gflopPerFace());
        assertTrue(info.peakActivationBytesBatch1() > 0, "peak " + info.peakActivationBytesBatch1());
        assertNotNull(info.layout());
        assertEquals(16, info.layout().featureDim());
        assertTrue(info.file().endsWith("model.pth"), info.file());
        assertEquals("[N, 3, 140, 140]", info.inputs().get("input"));
        assertEquals("[N, 16]", info.outputs().get("features"));
        assertEquals("[N, 8]", info.outputs().get("logits"));
        assertTrue(info.nodes() > 50);
        assertEquals(info.nodes(), info.backendNodeCounts().values().stream().mapToLong(Long::longValue).sum());
        assertContains(String.join("\n", info.lines()), "parameters: 158860", "format: pth");
    }

    @Test
    void wrongInputShapeNamesExpectedAndActual() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.extract(Tensor.zeros(1, 3, 100, 100)));
        assertContains(e.getMessage(), "[N, 3, 140, 140]", "[1, 3, 100, 100]");
        e = assertThrows(IllegalArgumentException.class, () -> model.run(Tensor.zeros(3, 140, 140)));
        assertContains(e.getMessage(), "[N, 3, 140, 140]", "[3, 140, 140]");
        e = assertThrows(IllegalArgumentException.class, () -> model.extract(new float[3 * 140 * 139]));
        assertContains(e.getMessage(), String.valueOf(3 * 140 * 140), String.valueOf(3 * 140 * 139));
        e = assertThrows(IllegalArgumentException.class, () -> model.extract(List.of(faces.get(0), new float[10])));
        assertContains(e.getMessage(), "face 1", "10");
    }

    @Test
    void closingTwiceIsHarmless() {
        DeepFever m = DeepFever.load(ModelTestUtil.fixture(MINI, "model.safetensors"));
        FaceResult r = m.extract(faces.get(0));
        assertClose("features", ModelTestUtil.row(features, 0), r.features(), 1e-4);
        assertEquals("safetensors", m.info().format());
        m.close();
        m.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.extract(faces.get(0)));
        assertContains(e.getMessage(), "model.safetensors", "closed");
        assertThrows(IllegalStateException.class, () -> m.run(Tensor.zeros(1, 3, 140, 140)));
    }

    @Test
    void emptyListGivesNoResults() {
        assertEquals(List.of(), model.extract(List.of()));
    }

    @Test
    void onnxFixtureMatchesPyTorch() {
        try (DeepFever m = DeepFever.load(ModelTestUtil.fixture(MINI, "model.onnx"))) {
            List<FaceResult> rs = m.extract(faces.subList(0, 2));
            for (int i = 0; i < 2; i++) {
                assertClose("features " + i, ModelTestUtil.row(features, i), rs.get(i).features(), 1e-4);
                assertClose("embedding " + i, ModelTestUtil.row(embedding, i), rs.get(i).embedding(), 1e-4);
                assertClose("logits " + i, ModelTestUtil.row(logits, i), rs.get(i).logits(), 1e-4);
            }
            assertContains(m.info().format(), "onnx", "13");
            assertTrue(m.info().parameters() > 0);
        }
    }

    @Test
    void referenceBackendMatchesPyTorch() {
        try (DeepFever m = DeepFever.load(ModelTestUtil.fixture(MINI, "model.pth"),
                DeepFever.Options.defaults().withBackend("reference").withThreads(1))) {
            assertEquals(1, m.threads());
            FaceResult r = m.extract(faces.get(1));
            assertClose("features", ModelTestUtil.row(features, 1), r.features(), 1e-4);
            assertClose("logits", ModelTestUtil.row(logits, 1), r.logits(), 1e-4);
            assertEquals(m.info().nodes(), m.info().backendNodeCounts().get("reference"));
        }
    }

    @Test
    void unknownBackendNameFailsTheLoadNamingIt() {
        // the backend is resolved on another thread while the file is read: its failure must still reach the caller
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeepFever.load(ModelTestUtil.fixture(MINI, "model.onnx"),
                DeepFever.Options.defaults().withBackend("no-such-backend")));
        assertContains(e.getMessage(), "no-such-backend", "simd");
    }

    @Test
    void untrainedDefaultRunsTheFullSizeNetwork() {
        try (DeepFever m = DeepFever.untrainedDefault(DeepFever.Options.defaults())) {
            float[] face = new float[3 * 140 * 140];
            for (int i = 0; i < face.length; i++) face[i] = (float) Math.sin(i * 0.001) * 0.9f;
            FaceResult r = m.extract(face);
            assertEquals(128, r.features().length);
            assertEquals(32, r.embedding().length);
            assertEquals(8, r.logits().length);
            double norm = 0;
            for (float v : r.embedding()) norm += (double) v * v;
            assertEquals(1.0, Math.sqrt(norm), 1e-5);
            for (float v : r.features()) assertTrue(Float.isFinite(v) && v >= 0, "features are a mean of ReLU outputs: " + v);
            assertTrue(m.info().gflopPerFace() > 1.5 && m.info().gflopPerFace() < 2.5, "gflop " + m.info().gflopPerFace());
            assertContains(m.info().format(), "untrained");
        }
    }
}
