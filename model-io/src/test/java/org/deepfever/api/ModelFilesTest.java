package org.deepfever.api;

import static org.deepfever.model.ModelTestUtil.MINI;
import static org.deepfever.model.ModelTestUtil.assertClose;
import static org.deepfever.model.ModelTestUtil.assertContains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import org.deepfever.core.Tensor;
import org.deepfever.model.ModelLoadException;
import org.deepfever.model.ModelTestUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading model files through DeepFever.load: damaged files and rewritten state dicts. */
class ModelFilesTest {
    @TempDir Path tmp;

    private Path firstHalf(String fixture, String name) throws IOException {
        byte[] all = Files.readAllBytes(ModelTestUtil.fixture(MINI, fixture));
        Path p = tmp.resolve(name);
        Files.write(p, Arrays.copyOf(all, all.length / 2));
        return p;
    }

    private static ModelLoadException loadFails(Path p) {
        return assertThrows(ModelLoadException.class, () -> DeepFever.load(p));
    }

    @Test
    void truncatedSafetensorsNamesTheFile() throws IOException {
        ModelLoadException e = loadFails(firstHalf("model.safetensors", "half.safetensors"));
        assertContains(e.getMessage(), "half.safetensors", "truncated");
    }

    @Test
    void truncatedPthNamesTheFile() throws IOException {
        ModelLoadException e = loadFails(firstHalf("model.pth", "half.pth"));
        assertContains(e.getMessage(), "half.pth");
    }

    @Test
    void truncatedOnnxNamesTheFile() throws IOException {
        ModelLoadException e = loadFails(firstHalf("model.onnx", "half.onnx"));
        assertContains(e.getMessage(), "half.onnx");
    }

    @Test
    void missingAndEmptyFilesNameTheFile() throws IOException {
        ModelLoadException e = loadFails(tmp.resolve("nothing.pth"));
        assertContains(e.getMessage(), "nothing.pth");
        Path empty = Files.write(tmp.resolve("empty.safetensors"), new byte[0]);
        e = loadFails(empty);
        assertContains(e.getMessage(), "empty.safetensors");
    }

    @Test
    void prefixedStateDictWithExtraHeadLoadsThroughTheApi() throws IOException {
        LinkedHashMap<String, Tensor> sd = ModelTestUtil.stateDict(ModelTestUtil.fixture(MINI, "model.safetensors"));
        Tensor input = ModelTestUtil.npy(MINI, "input.npy");
        Tensor features = ModelTestUtil.npy(MINI, "features.npy");
        int width = features.dim(1);
        float[] w = new float[2 * width], b = {0.1f, -0.2f};
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.cos(0.3 * i) * 0.25f;
        sd.put("va.weight", Tensor.of(w, 2, width));
        sd.put("va.bias", Tensor.of(b, 2));
        LinkedHashMap<String, Tensor> prefixed = new LinkedHashMap<>();
        sd.forEach((k, v) -> prefixed.put("module." + k, v));
        Path file = ModelTestUtil.writeSafetensors(tmp.resolve("prefixed.safetensors"), prefixed);

        try (DeepFever m = DeepFever.load(file)) {
            assertEquals(List.of("va"), m.extraHeads());
            assertEquals("module.", m.info().layout().strippedPrefix());
            assertEquals(List.of("va"), m.info().layout().extraHeads());
            FaceResult r = m.extract(ModelTestUtil.row(input, 2));
            assertClose("features", ModelTestUtil.row(features, 2), r.features(), 1e-4);
            float[] va = r.extraHeads().get("va");
            float[] expected = new float[2];
            for (int o = 0; o < 2; o++) {
                double s = b[o];
                for (int i = 0; i < width; i++) s += (double) r.features()[i] * w[o * width + i];
                expected[o] = (float) s;
            }
            assertClose("va", expected, va, 1e-5);
            assertEquals("[N, 2]", m.info().outputs().get("va"));
        }
    }

    @Test
    void stateDictErrorsThroughTheApiNameTheFile() throws IOException {
        LinkedHashMap<String, Tensor> sd = ModelTestUtil.stateDict(ModelTestUtil.fixture(MINI, "model.safetensors"));
        sd.remove("fec.bias");
        Path file = ModelTestUtil.writeSafetensors(tmp.resolve("nofec.safetensors"), sd);
        ModelLoadException e = loadFails(file);
        assertContains(e.getMessage(), "nofec.safetensors", "'fec.bias'");
    }
}
