package org.deepfever.api;

import static org.deepfever.model.ModelTestUtil.MINI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.deepfever.core.Tensor;
import org.deepfever.io.BrokenFiles;
import org.deepfever.io.OpenFiles;
import org.deepfever.io.onnx.proto.Onnx.GraphProto;
import org.deepfever.io.onnx.proto.Onnx.ModelProto;
import org.deepfever.io.onnx.proto.Onnx.TensorProto;
import org.deepfever.model.ModelLoadException;
import org.deepfever.model.ModelTestUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken model files through the user's path, {@link DeepFever#load}: each damaged golden model
 * fails with one {@link ModelLoadException} naming the file and what is wrong, and leaves nothing
 * of the file open or mapped; a model whose weights hold NaN or infinity loads with a warning per
 * tensor naming it (System.Logger "org.deepfever").
 */
class BrokenModelTest {
    @TempDir Path tmp;

    private static final DeepFever.Options ONE_THREAD = DeepFever.Options.defaults().withThreads(1);
    /** Held strongly: java.util.logging keeps loggers weakly, and a collected logger loses its handler. */
    private final Logger logger = Logger.getLogger("org.deepfever");
    private final List<String> warnings = new ArrayList<>();
    private final Handler capture = new Handler() {
        @Override public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) synchronized (warnings) { warnings.add(r.getMessage()); }
        }
        @Override public void flush() {}
        @Override public void close() {}
    };

    @BeforeEach
    void listen() {
        logger.addHandler(capture);
    }

    @AfterEach
    void stopListening() {
        logger.removeHandler(capture);
    }

    private static ModelLoadException loadFails(Path p, String... fragments) throws IOException {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> DeepFever.load(p, ONE_THREAD).close());
        assertTrue(e.getMessage().startsWith(p + ": ") || e.getMessage().startsWith(p.getFileName() + ": "),
                "message should start with the file: " + e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "expected \"" + f + "\" in: " + e.getMessage());
        OpenFiles.assertReleased(p);
        return e;
    }

    @Test
    void truncatedGoldenModelsOfEveryFormatFailToLoadAndReleaseTheFile() throws IOException {
        for (String name : List.of("model.pth", "model.safetensors", "model.onnx")) {
            byte[] all = Files.readAllBytes(ModelTestUtil.fixture(MINI, name));
            Path p = tmp.resolve("cut-" + name);
            for (long n : BrokenFiles.truncations(all.length, 6, 4)) {
                if (n % 7 != 0 && n > 64 && n < all.length - 64) continue; // a sample of the offsets: the readers' own tests take them all
                loadFails(BrokenFiles.writePrefix(all, n, p));
            }
        }
    }

    @Test
    void aWeightOfTheWrongShapeNamesFileKeyAndBothShapes() throws IOException {
        LinkedHashMap<String, Tensor> sd = ModelTestUtil.stateDict(ModelTestUtil.fixture(MINI, "model.safetensors"));
        int n = sd.get("fec.bias").dim(0);
        sd.put("fec.bias", Tensor.zeros(n + 1));
        Path p = ModelTestUtil.writeSafetensors(tmp.resolve("shape.safetensors"), sd);
        loadFails(p, "key 'fec.bias': expected shape [" + n + "], got [" + (n + 1) + "]");
    }

    // ---- NaN and infinity in the weights ------------------------------------------------------

    @Test
    void nonFiniteSafetensorsWeightsLoadWithAWarningNamingEachTensor() throws IOException {
        LinkedHashMap<String, Tensor> sd = ModelTestUtil.stateDict(ModelTestUtil.fixture(MINI, "model.safetensors"));
        poison(sd, "fec.weight", 3, Float.NaN);
        poison(sd, "fec.weight", 5, Float.POSITIVE_INFINITY);
        String conv = sd.keySet().stream().filter(k -> k.endsWith(".weight") && sd.get(k).rank() == 4).findFirst().orElseThrow();
        poison(sd, conv, 0, Float.NEGATIVE_INFINITY);
        Path p = ModelTestUtil.writeSafetensors(tmp.resolve("nan.safetensors"), sd);
        DeepFever.load(p, ONE_THREAD).close(); // loads: the weights are the user's to judge
        assertWarned(p, conv, 1);
        assertWarned(p, "fec.weight", 2);
        assertEquals(2, warnings.size(), "one warning per tensor: " + warnings);
    }

    @Test
    void finiteWeightsGiveNoWarning() throws IOException {
        Path p = tmp.resolve("model.safetensors");
        Files.copy(ModelTestUtil.fixture(MINI, "model.safetensors"), p);
        DeepFever.load(p, ONE_THREAD).close();
        assertEquals(List.of(), warnings);
    }

    @Test
    void nonFiniteOnnxInitializersLoadWithAWarning() throws IOException {
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(ModelTestUtil.fixture(MINI, "model.onnx")));
        GraphProto.Builder g = m.getGraph().toBuilder();
        int index = -1;
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE && t.getRawData().size() >= 64) { index = i; break; }
        }
        TensorProto t = g.getInitializer(index);
        byte[] raw = t.getRawData().toByteArray();
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putFloat(8, Float.NaN);
        g.setInitializer(index, t.toBuilder().setRawData(ByteString.copyFrom(raw)));
        Path p = tmp.resolve("nan.onnx");
        Files.write(p, m.toBuilder().setGraph(g).build().toByteArray());
        DeepFever.load(p, ONE_THREAD).close();
        assertWarned(p, t.getName(), 1);
        assertEquals(1, warnings.size(), warnings.toString());
    }

    private static void poison(LinkedHashMap<String, Tensor> sd, String key, int index, float value) {
        Tensor t = sd.get(key);
        float[] a = t.toFloatArray();
        a[index] = value;
        sd.put(key, Tensor.of(a, t.shape().dims()));
    }

    private void assertWarned(Path file, String tensor, int count) {
        String prefix = file + ": tensor '" + tensor + "' ";
        List<String> matching = warnings.stream().filter(w -> w.startsWith(prefix)).toList();
        assertEquals(1, matching.size(), "one warning for " + tensor + " among " + warnings);
        assertTrue(matching.get(0).contains(" holds " + count + " non-finite value"), matching.get(0));
    }
}
