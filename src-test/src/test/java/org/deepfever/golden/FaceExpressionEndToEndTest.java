package org.deepfever.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deepfever.api.DeepFever;
import org.deepfever.api.FaceModel;
import org.deepfever.api.FaceModels;
import org.deepfever.api.FaceResult;
import org.deepfever.cli.FeverCommand;
import org.deepfever.faces.FaceAnalyzer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default model as users reach it, against face-api's own runtime ({@code
 * reference/face-api/goldens.json}, tfjs cpu backend): through the library ({@link FaceAnalyzer} on
 * each crop file, the whole image as the face) and through {@code fever extract --detect never}.
 * Every crop's 7 probabilities within 1e-3 and the same top label; the crops include one that is not
 * square (padding) and ones larger than 112 (resizing).
 */
class FaceExpressionEndToEndTest {
    static final Path DIR = Path.of("reference/face-api");
    static final double PROB_TOL = 1e-3;

    static JsonNode cpu;
    static List<String> labels;
    static List<String> crops;

    @TempDir Path tmp;

    @BeforeAll
    static void load() throws IOException {
        JsonNode goldens = new ObjectMapper().readTree(DIR.resolve("goldens.json").toFile());
        cpu = goldens.get("backends").get("cpu");
        labels = new ArrayList<>();
        goldens.get("labels").forEach(l -> labels.add(l.asText()));
        crops = new ArrayList<>();
        cpu.fieldNames().forEachRemaining(crops::add);
        crops.sort(null);
        assertTrue(crops.size() >= 8, "goldens for " + crops);
    }

    static void check(String crop, String label, float[] probabilities) {
        JsonNode g = cpu.get(crop);
        assertEquals(g.get("top").asText(), label, crop + ": top label");
        for (int k = 0; k < labels.size(); k++) {
            double want = g.get("probabilities").get(k).doubleValue();
            assertEquals(want, probabilities[k], PROB_TOL, crop + ": " + labels.get(k));
        }
    }

    @Test
    void throughTheLibrary() throws IOException {
        try (FaceModel model = FaceModels.load("face-expression", DeepFever.Options.defaults().withThreads(2))) {
            assertEquals(labels, model.output().classes());
            FaceAnalyzer analyzer = new FaceAnalyzer(model, FaceAnalyzer.Detect.NEVER);
            for (String crop : crops) {
                List<FaceAnalyzer.Face> faces = analyzer.analyze(DIR.resolve("crops").resolve(crop + ".png"));
                assertEquals(1, faces.size(), crop);
                assertNull(faces.get(0).box(), "the whole crop is the face");
                FaceResult r = faces.get(0).result();
                check(crop, r.label(), r.probabilities());
            }
        }
    }

    @Test
    void throughFeverExtract() throws IOException {
        Path out = tmp.resolve("crops.jsonl");
        int rc = FeverCommand.commandLine().execute("extract", "--detect", "never", "--threads", "2", "--out", out.toString(),
                DIR.resolve("crops").toString());
        assertEquals(0, rc);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(out);
        assertEquals(crops.size(), lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = json.readTree(lines.get(i));
            String name = Path.of(line.get("image").asText()).getFileName().toString();
            String crop = name.substring(0, name.length() - ".png".length());
            assertEquals(crops.get(i), crop, "input order");
            assertTrue(line.get("face").isNull());
            assertTrue(!line.has("embedding") && !line.has("note"), "no embedding, no caveat: " + line);
            assertEquals(256, line.get("features").size());
            float[] p = new float[labels.size()];
            for (int k = 0; k < p.length; k++) p[k] = line.get("expression").get("scores").get(labels.get(k)).floatValue();
            check(crop, line.get("expression").get("label").asText(), p);
        }
    }
}
