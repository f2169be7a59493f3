package org.deepfever.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.deepfever.core.Tensor;
import org.deepfever.core.backend.Backends;
import org.deepfever.core.backend.ThreadPool;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.graph.Graph;
import org.deepfever.io.WeightFile;
import org.deepfever.model.FaceExpressionGraphBuilder;
import org.deepfever.model.FaceExpressionNet;
import org.deepfever.model.FaceExpressionPreprocess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The built-in face expression model against face-api's own runtime: {@code
 * reference/face-api/goldens.json} holds, per crop of {@code reference/face-api/crops/}, what
 * face-api 1.7.15 on TF.js 4.22 (cpu and wasm backends) computed with {@code
 * faceExpressionNet.predictExpressions} (probabilities), {@code runNet} (logits) and the feature
 * extractor (features), plus samples of its preprocessed input (see that folder's README for how to
 * regenerate it; these tests need no node).
 *
 * <p>Tolerances: preprocessing 1e-6 against the cpu backend (the same double-precision bilinear
 * arithmetic; wasm's float arithmetic differs by up to 3e-6); probabilities 1e-3 absolute and the
 * same top label, on both backends of each; logits and features 1e-3 + 1e-3 * |value| (float32
 * sums in another order over 51M multiply-adds, and TF.js's own cpu-wasm spread is 3e-5).
 */
class FaceExpressionGoldenTest {
    static final Path DIR = Path.of("reference/face-api");
    static final double PROB_TOL = 1e-3, FEATURE_TOL = 1e-3, INPUT_TOL = 1e-6;

    static JsonNode goldens;
    static List<String> crops;
    static Graph graph;
    static ThreadPool pool;

    @BeforeAll
    static void load() throws IOException {
        goldens = JsonMapper.builder().build().readTree(DIR.resolve("goldens.json").toFile());
        crops = new ArrayList<>();
        goldens.get("backends").get("cpu").fieldNames().forEachRemaining(crops::add);
        assertTrue(crops.size() >= 8, "goldens for " + crops);
        try (WeightFile w = FaceExpressionNet.builtInWeights()) {
            graph = FaceExpressionGraphBuilder.build("face_expression_model-weights_manifest.json", w.tensors());
        }
        pool = new ThreadPool(2);
    }

    /** Largest differences seen, by output (printed at the end: the margins the tolerances leave). */
    static final Map<String, Double> WORST = new java.util.concurrent.ConcurrentSkipListMap<>();

    @AfterAll
    static void close() {
        pool.close();
        System.out.println("FaceExpressionGoldenTest largest |engine - face-api|: " + WORST);
    }

    /** A committed crop, prepared by the engine's preprocessing. */
    static float[] prepared(String crop) throws IOException {
        BufferedImage img = ImageIO.read(DIR.resolve("crops").resolve(crop + ".png").toFile());
        int w = img.getWidth(), h = img.getHeight();
        JsonNode g = goldens.get("backends").get("cpu").get(crop);
        assertEquals(g.get("width").asInt(), w, crop + " width");
        assertEquals(g.get("height").asInt(), h, crop + " height");
        return FaceExpressionPreprocess.fromRgbInts(img.getRGB(0, 0, w, h, null, 0, w), w, h);
    }

    @Test
    void goldensAreForTheShippedModel() {
        assertEquals("9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d", goldens.get("model").get("face_expression_model.bin").asText());
        assertEquals("5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8", goldens.get("model").get("face_expression_model-weights_manifest.json").asText());
        assertEquals("@vladmandic/face-api 1.7.15", goldens.get("package").asText());
    }

    @Test
    void preprocessingMatchesFaceApi() throws IOException {
        int plane = 112 * 112;
        for (String crop : crops) {
            float[] chw = prepared(crop);
            JsonNode input = goldens.get("backends").get("cpu").get(crop).get("input");
            double sum = 0;
            for (float v : chw) sum += v;
            assertEquals(input.get("sum").asDouble(), sum, 1e-2, crop + ": sum of the prepared input");
            for (JsonNode s : input.get("samples")) {
                int hwc = s.get(0).asInt(), pixel = hwc / 3, channel = hwc % 3;
                float expected = (float) s.get(1).asDouble(), actual = chw[channel * plane + pixel];
                if (!(Math.abs(actual - expected) <= INPUT_TOL)) {
                    fail(crop + ": prepared input at pixel (" + pixel % 112 + ", " + pixel / 112 + ") channel " + channel + ": face-api " + expected + ", engine " + actual);
                }
            }
        }
    }

    @Test
    void referenceBackendMatchesFaceApi() throws IOException { checkBackend("reference", 1); }

    @Test
    void simdBackendMatchesFaceApiBatch1() throws IOException { checkBackend("simd", 1); }

    @Test
    void simdBackendMatchesFaceApiBatchOfAll() throws IOException { checkBackend("simd", crops.size()); }

    /** Runs every crop in batches of {@code batch} on one backend and compares with both TF.js backends. */
    private void checkBackend(String backend, int batch) throws IOException {
        try (CompiledGraph cg = new CompiledGraph(graph, Backends.byName(backend), Backends.reference(), pool, false)) {
            for (int from = 0; from < crops.size(); from += batch) {
                int n = Math.min(batch, crops.size() - from);
                float[] all = new float[n * 3 * 112 * 112];
                for (int i = 0; i < n; i++) System.arraycopy(prepared(crops.get(from + i)), 0, all, i * 3 * 112 * 112, 3 * 112 * 112);
                Map<String, Tensor> out = cg.run(Map.of("input", Tensor.of(all, n, 3, 112, 112)));
                for (int i = 0; i < n; i++) {
                    String crop = crops.get(from + i);
                    for (String tfjs : List.of("cpu", "wasm")) {
                        JsonNode g = goldens.get("backends").get(tfjs).get(crop);
                        String what = backend + " batch " + n + " vs tfjs-" + tfjs + ", " + crop;
                        float[] p = row(out.get("probabilities"), i);
                        compare(what + " probabilities", g.get("probabilities"), p, PROB_TOL, 0);
                        compare(what + " logits", g.get("logits"), row(out.get("logits"), i), FEATURE_TOL, FEATURE_TOL);
                        compare(what + " features", g.get("features"), row(out.get("features"), i), FEATURE_TOL, FEATURE_TOL);
                        int best = 0;
                        for (int k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
                        assertEquals(g.get("top").asText(), FaceExpressionNet.LABELS.get(best), what + ": top label");
                    }
                }
            }
        }
    }

    private static float[] row(Tensor t, int i) {
        float[] out = new float[t.dim(1)];
        t.readFlat((long) i * out.length, out, 0, out.length);
        return out;
    }

    private static void compare(String what, JsonNode expected, float[] actual, double abs, double rel) {
        assertEquals(expected.size(), actual.length, what + ": length");
        double worst = 0;
        for (int k = 0; k < actual.length; k++) {
            double e = expected.get(k).asDouble(), d = Math.abs(actual[k] - e);
            if (!(d <= abs + rel * Math.abs(e))) fail(what + "[" + k + "]: face-api " + e + ", engine " + actual[k] + " (tolerance " + (abs + rel * Math.abs(e)) + ")");
            worst = Math.max(worst, d);
        }
        WORST.merge(what.substring(0, what.indexOf(' ')) + what.substring(what.lastIndexOf(' ')), worst, Math::max);
    }
}
