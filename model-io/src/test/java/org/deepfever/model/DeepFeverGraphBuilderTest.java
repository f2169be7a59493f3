package org.deepfever.model;

import static org.deepfever.model.ModelTestUtil.FULL_BACKBONE;
import static org.deepfever.model.ModelTestUtil.MINI;
import static org.deepfever.model.ModelTestUtil.assertBitExact;
import static org.deepfever.model.ModelTestUtil.assertClose;
import static org.deepfever.model.ModelTestUtil.assertContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deepfever.core.Tensor;
import org.deepfever.core.exec.CompiledGraph;
import org.deepfever.core.graph.Node;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DeepFeverGraphBuilder on the committed golden sets' state dicts, intact and mutated: deepfever-mini
 * has every width of the real network divided by 8, deepfever-mini-fullbackbone by 16
 * (src-test/reference/make_goldens.py's presets).
 */
class DeepFeverGraphBuilderTest {
    private static final String SOURCE = "model.safetensors";
    private static LinkedHashMap<String, Tensor> mini;
    private static Tensor face0;     // [1,3,140,140]
    private static float[] features0, embedding0, logits0;

    @BeforeAll
    static void load() throws IOException {
        mini = ModelTestUtil.stateDict(ModelTestUtil.fixture(MINI, "model.safetensors"));
        face0 = ModelTestUtil.npy(MINI, "input.npy").slice(0, 0, 1).copy();
        features0 = ModelTestUtil.row(ModelTestUtil.npy(MINI, "features.npy"), 0);
        embedding0 = ModelTestUtil.row(ModelTestUtil.npy(MINI, "embedding.npy"), 0);
        logits0 = ModelTestUtil.row(ModelTestUtil.npy(MINI, "logits.npy"), 0);
    }

    private static LinkedHashMap<String, Tensor> copy() { return new LinkedHashMap<>(mini); }

    private static Map<String, Tensor> run(DeepFeverGraphBuilder.Result r) {
        try (CompiledGraph cg = CompiledGraph.compile(r.graph(), 1)) {
            return cg.run(Map.of("input", face0));
        }
    }

    private static ModelLoadException buildFails(Map<String, Tensor> sd) {
        return assertThrows(ModelLoadException.class, () -> DeepFeverGraphBuilder.build(SOURCE, sd));
    }

    @Test
    void infersMiniLayout() {
        DeepFeverLayout l = DeepFeverGraphBuilder.build(SOURCE, copy()).layout();
        assertEquals(32 / 8, l.widths().get("conv2d_1a"));
        assertEquals(896 / 8, l.widths().get("mixed_6a"));
        assertEquals(1792 / 8, l.widths().get("mixed_7a"));
        assertEquals(512 / 8, l.widths().get("reduce"));
        assertEquals(128 / 8, l.widths().get("project"));
        assertArrayEquals(new int[] {2, 2, 0}, l.repeats());
        assertFalse(l.fullBackbone());
        assertEquals(5, l.denseLayers());
        assertEquals(64 / 8, l.denseGrowth());
        assertEquals((512 + 5 * 64) / 8, l.widths().get("dense"));
        assertEquals(128 / 8, l.featureDim());
        assertEquals(32, l.embeddingDim());
        assertEquals(8, l.classes());
        assertEquals(List.of(), l.extraHeads());
        assertEquals("", l.strippedPrefix());
        assertContains(l.describe(), "repeats 2,2,0", "cut after mixed_7a", "features 16");
    }

    @Test
    void infersFullBackboneLayout() throws IOException {
        var sd = ModelTestUtil.stateDict(ModelTestUtil.fixture(FULL_BACKBONE, "model.safetensors"));
        DeepFeverGraphBuilder.Result r = DeepFeverGraphBuilder.build(SOURCE, sd);
        DeepFeverLayout l = r.layout();
        assertArrayEquals(new int[] {1, 2, 2}, l.repeats());
        assertTrue(l.fullBackbone());
        assertEquals(32 / 16, l.widths().get("conv2d_1a"));
        assertEquals(896 / 16, l.widths().get("mixed_6a"));
        assertEquals(1792 / 16, l.widths().get("mixed_7a"));
        assertEquals(512 / 16, l.widths().get("reduce"));
        assertEquals(128 / 16, l.widths().get("project"));
        assertEquals(128 / 16, l.featureDim());
        assertEquals(32, l.embeddingDim());
        assertEquals(8, l.classes());
        assertTrue(r.tapNodes().containsKey("block8"), "block8 tap: " + r.tapNodes());
        assertContains(l.describe(), "cut after block8");
    }

    @Test
    void graphOutputsAndTapsOnMini() {
        DeepFeverGraphBuilder.Result r = DeepFeverGraphBuilder.build(SOURCE, copy());
        assertEquals(List.of("features", "embedding", "logits"), List.copyOf(r.graph().outputs().keySet()));
        assertEquals(List.of("stem", "repeat_1", "mixed_6a", "repeat_2", "mixed_7a", "reduce", "dense", "project").stream().sorted().toList(),
                r.tapNodes().keySet().stream().sorted().toList());
        var names = r.graph().nodes().stream().map(Node::name).toList();
        for (String node : r.tapNodes().values()) assertTrue(names.contains(node), "tap node " + node + " not in graph");
        Map<String, Tensor> out = run(r);
        assertClose("features", features0, out.get("features").toFloatArray(), 1e-4);
        assertClose("embedding", embedding0, out.get("embedding").toFloatArray(), 1e-4);
        assertClose("logits", logits0, out.get("logits").toFloatArray(), 1e-4);
    }

    @Test
    void missingKeyNamesSourceAndKey() {
        var sd = copy();
        assertTrue(sd.remove("repeat_2.1.branch1.1.conv.weight") != null);
        ModelLoadException e = buildFails(sd);
        assertContains(e.getMessage(), SOURCE, "'repeat_2.1.branch1.1.conv.weight'", "missing");
    }

    @Test
    void misshapedKeyNamesKeyExpectedAndActualShape() {
        var sd = copy();
        Tensor w = sd.get("mixed_6a.branch0.conv.weight");
        assertArrayEquals(new int[] {48, 32, 3, 3}, w.shape().dims());
        sd.put("mixed_6a.branch0.conv.weight", Tensor.zeros(48, 31, 3, 3));
        ModelLoadException e = buildFails(sd);
        assertContains(e.getMessage(), SOURCE, "'mixed_6a.branch0.conv.weight'", "[*, 32, 3, 3]", "[48, 31, 3, 3]");
    }

    @Test
    void misshapedBatchNormIsReported() {
        var sd = copy();
        sd.put("reduce.bn.running_var", Tensor.zeros(63));
        ModelLoadException e = buildFails(sd);
        assertContains(e.getMessage(), SOURCE, "'reduce.bn.running_var'", "[64]", "[63]");
    }

    @Test
    void unexpectedKeyIsNamed() {
        var sd = copy();
        sd.put("foo.bar.weight", Tensor.zeros(4, 4));
        ModelLoadException e = buildFails(sd);
        assertContains(e.getMessage(), SOURCE, "'foo.bar.weight'", "unexpected");
    }

    @Test
    void gapInRepeatIndicesIsAClearError() {
        var sd = copy();
        int before = sd.size();
        sd.keySet().removeIf(k -> k.startsWith("repeat_1.0."));
        assertTrue(sd.size() < before);
        assertTrue(sd.keySet().stream().anyMatch(k -> k.startsWith("repeat_1.1.")));
        ModelLoadException e = buildFails(sd);
        assertContains(e.getMessage(), SOURCE, "repeat_1.0", "gap");
    }

    @Test
    void missingDenseLayersIsAnError() {
        var sd = copy();
        sd.keySet().removeIf(k -> k.startsWith("dense."));
        ModelLoadException e = buildFails(sd);
        assertContains(e.getMessage(), SOURCE, "dense.layers.0");
    }

    @Test
    void modulePrefixIsStrippedAndGivesIdenticalOutputs() {
        var prefixed = new LinkedHashMap<String, Tensor>();
        mini.forEach((k, v) -> prefixed.put("module." + k, v));
        DeepFeverGraphBuilder.Result plain = DeepFeverGraphBuilder.build(SOURCE, copy());
        DeepFeverGraphBuilder.Result pref = DeepFeverGraphBuilder.build(SOURCE, prefixed);
        assertEquals("module.", pref.layout().strippedPrefix());
        assertEquals(plain.layout().widths(), pref.layout().widths());
        assertArrayEquals(plain.layout().repeats(), pref.layout().repeats());
        assertEquals(plain.graph().nodes().size(), pref.graph().nodes().size());
        assertEquals(plain.graph().nodes().stream().map(Node::name).toList(), pref.graph().nodes().stream().map(Node::name).toList());
        assertEquals(plain.tapNodes(), pref.tapNodes());
        Map<String, Tensor> a = run(plain), b = run(pref);
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertBitExact(k, a.get(k).toFloatArray(), b.get(k).toFloatArray());
        assertClose("features", features0, b.get("features").toFloatArray(), 1e-4);
    }

    @Test
    void nestedPrefixesAreStripped() {
        var prefixed = new LinkedHashMap<String, Tensor>();
        mini.forEach((k, v) -> prefixed.put("module.model." + k, v));
        DeepFeverGraphBuilder.Result r = DeepFeverGraphBuilder.build(SOURCE, prefixed);
        assertEquals("module.model.", r.layout().strippedPrefix());
        assertEquals(16, r.layout().featureDim());
    }

    @Test
    void extraLinearHeadIsRunAndReported() {
        var sd = copy();
        int width = features0.length;
        float[] w = new float[2 * width], b = {0.25f, -0.5f};
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(0.7 * i + 0.3) * 0.2f;
        sd.put("va.weight", Tensor.of(w, 2, width));
        sd.put("va.bias", Tensor.of(b, 2));
        DeepFeverGraphBuilder.Result r = DeepFeverGraphBuilder.build(SOURCE, sd);
        assertEquals(List.of("va"), r.layout().extraHeads());
        assertTrue(r.graph().outputs().containsKey("va"), "outputs " + r.graph().outputs().keySet());
        Map<String, Tensor> out = run(r);
        Tensor va = out.get("va");
        assertArrayEquals(new int[] {1, 2}, va.shape().dims());
        float[] f = out.get("features").toFloatArray();
        assertClose("features", features0, f, 1e-4);
        float[] expected = new float[2];
        for (int o = 0; o < 2; o++) {
            double s = b[o];
            for (int i = 0; i < width; i++) s += (double) f[i] * w[o * width + i];
            expected[o] = (float) s;
        }
        assertClose("va", expected, va.toFloatArray(), 1e-5);
    }

    @Test
    void extraHeadWithWrongInputWidthIsAnError() {
        var sd = copy();
        sd.put("va.weight", Tensor.zeros(2, 15));
        sd.put("va.bias", Tensor.zeros(2));
        ModelLoadException e = buildFails(sd);
        assertContains(e.getMessage(), SOURCE, "'va.weight'", "[*, 16]", "[2, 15]");
    }
}
